"""The installable Exchange in Debian's Chromium: the service worker registers under the strict
CSP, Chromium finds the app installable, the offline page shows when the server is away, only
static files are ever cached, a push delivered through DevTools shows a content-free
notification with its two answers, and the page's switch subscribes this device."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from forum.alerts.models import AlertAnswer
from forum.errors import Invalid
from forum.extensions import db
from forum.notify import subscriptions
from tests.browser.test_threads_red import _sign_in
from tests.conftest import CHROMIUM_ARGS, CHROMIUM_PATH
from tests.support.alerts import raise_alert
from tests.support.live import PAGE_TIMEOUT_MS, LiveServer
from tests.support.members import Members
from tests.support.pwa import (
    STORED_CREDENTIAL,
    SUBSCRIBE_STAND_IN,
    TAP_ACTION,
    b64url,
    browser_subscription,
    notifications,
    registration_id,
)

WAIT_S = 10.0  # a bound for the test, not a timing assertion

WORKER_ACTIVE = """() => navigator.serviceWorker.ready.then(function (registration) {
  return registration.active ? registration.active.scriptURL : null;
})"""

CACHED_URLS = """() => caches.keys().then(function (names) {
  return Promise.all(names.map(function (name) {
    return caches.open(name).then(function (cache) { return cache.keys(); });
  }));
}).then(function (lists) {
  return [].concat.apply([], lists).map(function (request) { return request.url; });
})"""


def _watch_console(page: Any) -> list[str]:
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _policy_problems(problems: list[str]) -> list[str]:
    return [p for p in problems if "Content Security Policy" in p or "Refused to" in p]


def _installed(page: Any, live_server: LiveServer) -> None:
    """Open a page and wait until the worker is active and controls the page."""
    page.goto(live_server.link("/sign-in"))
    assert page.evaluate(WORKER_ACTIVE) == live_server.link("/sw.js")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def test_the_worker_registers_under_the_policy_and_chromium_finds_the_app_installable(
    chromium: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    # A profile on disk: Chromium never offers to install from an off-the-record context,
    # which is what a new Playwright context is ("in-incognito").
    context = chromium.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS
    )
    try:
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.pages[0] if context.pages else context.new_page()
        problems = _watch_console(page)
        _installed(page, live_server)
        scope = page.evaluate("() => navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == live_server.link("/")
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"] == live_server.link("/manifest.webmanifest")
        assert not manifest.get("errors"), manifest["errors"]
        assert not _policy_problems(problems), problems
    finally:
        context.close()


def test_the_offline_page_shows_when_the_server_cannot_be_reached(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    member = live_members.make(name="Petra Offline")
    _sign_in(page, live_server, member)
    _installed(page, live_server)
    page.goto(live_server.link("/"))
    assert "Petra Offline" in page.content()
    page.context.set_offline(True)
    try:
        page.goto(live_server.link("/threads"))
        expect(page.locator("h1")).to_have_text("You are offline")
        assert "Petra" not in page.content()
        # Styled from the worker's cache: the static file came without the network.
        assert (
            page.evaluate("() => getComputedStyle(document.querySelector('.topbar')).display")
            == "flex"
        )
    finally:
        page.context.set_offline(False)
    page.goto(live_server.link("/"))
    assert "Petra Offline" in page.content()  # back online: the live page, not a stored one


def test_only_static_files_and_the_offline_page_are_ever_cached(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    member = live_members.make(name="Carla Cache")
    _sign_in(page, live_server, member)
    _installed(page, live_server)
    for path in ("/", "/threads", "/alerts", "/notifications", "/account/sessions", "/members"):
        page.goto(live_server.link(path))
    page.evaluate("() => fetch('/notifications/count').then(r => r.text())")
    urls = page.evaluate(CACHED_URLS)
    assert live_server.link("/offline") in urls
    assert live_server.link("/static/exchange.css") in urls
    kept = [url[len(live_server.url) :] for url in urls]
    assert [path for path in kept if not (path.startswith("/static/") or path == "/offline")] == []


def test_a_pushed_alert_shows_a_content_free_notification_with_its_two_answers(
    page: Any, live_server: LiveServer
) -> None:
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    _installed(page, live_server)
    cdp = page.context.new_cdp_session(page)
    registration = registration_id(cdp, live_server.url)
    payload = {
        "v": 1,
        "title": "INVICTM Exchange",
        "body": "Urgent alert — open the Exchange",
        "url": "/alerts/abc123",
        "tag": "outbox-1",
        "kind": "alert.raised",
        "urgent": True,
        "answerable": True,
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(payload)},
    )
    [shown] = notifications(page)
    assert shown["title"] == "INVICTM Exchange"
    assert shown["body"] == "Urgent alert — open the Exchange"
    assert shown["tag"] == "outbox-1"
    assert shown["requireInteraction"] is True
    assert shown["data"]["url"] == "/alerts/abc123" and shown["data"]["answerable"] is True
    # What a tap will say, in English when the payload brings no words of its own.
    assert shown["data"]["said"]["sent"] == "Your answer was sent."
    assert shown["actions"] == [["seen", "Seen"], ["can_help", "I can help"]]

    reminder = {**payload, "body": "Your call starts in 1 hour", "tag": "outbox-2"}
    reminder.update(kind="call.reminder", urgent=False, answerable=False, url="/calls/1")
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(reminder)},
    )
    deadline = time.monotonic() + WAIT_S
    while len(shown_all := notifications(page)) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    call = next(n for n in shown_all if n["tag"] == "outbox-2")
    assert call["actions"] == [] and call["requireInteraction"] is False


def test_a_push_to_another_site_address_opens_only_this_site(
    page: Any, live_server: LiveServer
) -> None:
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    _installed(page, live_server)
    cdp = page.context.new_cdp_session(page)
    registration = registration_id(cdp, live_server.url)
    payload = {"title": "x", "body": "y", "url": "https://attacker.example/", "tag": "t"}
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration, "data": json.dumps(payload)},
    )
    [shown] = notifications(page)
    assert shown["data"]["url"] == "/"


def _subscribe_with_the_switch(
    page: Any,
    live_server: LiveServer,
    member: Any,
    *,
    stand_in: str = SUBSCRIBE_STAND_IN,
    device: str = "device-1",
) -> dict[str, Any]:
    """Sign in, press the switch on the sessions page; the browser's subscribe is stood in for
    (headless Chromium has no push service) with real P-256 keys and a loopback endpoint the
    operator allowed."""
    live_server.app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    subscription = browser_subscription(f"http://127.0.0.1:9/push/{device}")
    page.add_init_script(stand_in % json.dumps(subscription))
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    _sign_in(page, live_server, member)
    page.goto(live_server.link("/account/sessions"))
    page.get_by_role("button", name="Turn on notifications on this device").click()
    expect(page.locator("[data-push-status]")).to_have_text("Notifications are on for this device.")
    return subscription


def test_the_switch_subscribes_this_device_and_keeps_its_credential_for_the_worker(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    problems = _watch_console(page)
    member = live_members.make(name="Sami Subscriber")
    subscription = _subscribe_with_the_switch(page, live_server, member)
    # On: the button has done its work (it no longer sits beside "Notifications are on").
    expect(page.get_by_role("button", name="Turn on notifications on this device")).to_be_hidden()

    db.session.commit()  # a fresh transaction sees what the server committed
    [device] = subscriptions.live_subscriptions(member.id)
    assert subscriptions.subscription_info(device) == {
        "endpoint": subscription["endpoint"],
        "keys": subscription["keys"],
    }
    credential = page.evaluate(STORED_CREDENTIAL)
    owner = subscriptions.credential_owner(credential)
    assert owner is not None and owner.subscription_id == device.id
    key = subscriptions.vapid_public_key()
    assert key is not None
    assert b64url(bytes(page.evaluate("() => window.__subscribedWith"))) == key
    assert not _policy_problems(problems), problems


def test_a_tap_on_i_can_help_answers_the_alert_with_the_devices_credential(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    raiser = live_members.make(name="Rita Raiser")
    helper = live_members.make(name="Hugo Helper")
    _subscribe_with_the_switch(page, live_server, helper)
    page.context.clear_cookies()  # the answer needs no session: the worker sends none anyway
    alert = raise_alert(raiser)
    [worker] = page.context.service_workers
    assert worker.evaluate(TAP_ACTION, [f"/alerts/{alert.id}", "can_help"]) == "done"
    db.session.commit()
    answers = db.session.scalars(select(AlertAnswer).where(AlertAnswer.alert_id == alert.id))
    assert [(a.member_id, a.answer) for a in answers] == [(helper.id, "can_help")]


def test_the_switch_says_plainly_when_notifications_are_blocked(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    member = live_members.make()
    _sign_in(page, live_server, member)
    page.goto(live_server.link("/account/sessions"))
    page.evaluate("() => { Notification.requestPermission = () => Promise.resolve('denied'); }")
    page.get_by_role("button", name="Turn on notifications on this device").click()
    expect(page.locator("[data-push-status]")).to_contain_text("Notifications are blocked")
    db.session.commit()
    assert subscriptions.live_subscriptions(member.id) == []


def test_a_browser_without_push_is_told_so_in_plain_words(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    page.add_init_script("delete window.PushManager;")
    _sign_in(page, live_server, live_members.make())
    page.goto(live_server.link("/account/sessions"))
    expect(page.locator("[data-push-status]")).to_contain_text(
        "This browser cannot receive notifications"
    )
    assert not page.get_by_role("button", name="Turn on notifications on this device").is_visible()


# A browser that already holds a push subscription (as after an earlier sign-in).
SUBSCRIBED_STAND_IN = """(() => {
  var subscription = %s;
  var held = {
    endpoint: subscription.endpoint,
    toJSON: function () { return subscription; },
    unsubscribe: function () {
      localStorage.setItem("stand-in.unsubscribed", "1");
      return Promise.resolve(true);
    }
  };
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(localStorage.getItem("stand-in.unsubscribed") ? null : held);
  };
  PushManager.prototype.subscribe = function () {
    localStorage.removeItem("stand-in.unsubscribed");
    return Promise.resolve(held);
  };
})();"""


def test_a_device_with_notifications_is_bound_to_each_new_sign_in_so_signing_out_ends_it(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    member = live_members.make(name="Rana Rebind")
    _subscribe_with_the_switch(
        page, live_server, member, stand_in=SUBSCRIBED_STAND_IN, device="device-rebind"
    )
    first = page.evaluate(STORED_CREDENTIAL)

    # Her sign-in expires; she signs in again on the same phone and opens any page.
    page.goto("about:blank")
    page.context.clear_cookies()
    _sign_in(page, live_server, member)
    page.goto(live_server.link("/"))
    deadline = time.monotonic() + WAIT_S
    while page.evaluate(STORED_CREDENTIAL) == first and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    second = page.evaluate(STORED_CREDENTIAL)
    assert second != first
    db.session.commit()
    assert subscriptions.credential_owner(first) is None
    owner = subscriptions.credential_owner(second)
    assert owner is not None and owner.member_id == member.id

    page.goto(live_server.link("/"))  # bound already: nothing is sent again
    page.wait_for_timeout(300)
    assert page.evaluate(STORED_CREDENTIAL) == second

    page.get_by_role("button", name="Sign out").first.click()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    db.session.commit()
    assert subscriptions.credential_owner(second) is None  # ended with this sign-in

    # Someone else signs in on this browser: it is not turned on for her by itself.
    other = live_members.make(name="Olga Other")
    _sign_in(page, live_server, other)
    page.goto(live_server.link("/"))
    page.wait_for_timeout(500)
    db.session.commit()
    assert subscriptions.live_subscriptions(other.id) == []
    assert page.evaluate(STORED_CREDENTIAL) is None  # the previous member's left with her


def test_removing_this_device_unsubscribes_the_browser_so_no_sign_in_turns_it_on_again(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    member = live_members.make(name="Remy Remove")
    _subscribe_with_the_switch(
        page, live_server, member, stand_in=SUBSCRIBED_STAND_IN, device="device-remove"
    )
    page.reload()
    expect(page.locator("[data-push-status]")).to_contain_text("already has notifications")
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("Device removed.")).to_be_visible()
    assert page.evaluate("() => localStorage.getItem('stand-in.unsubscribed')") == "1"
    expect(page.locator("[data-push-status]")).not_to_contain_text("already")

    page.goto("about:blank")
    page.context.clear_cookies()
    _sign_in(page, live_server, member)
    page.goto(live_server.link("/"))
    page.wait_for_timeout(500)
    db.session.commit()
    assert subscriptions.live_subscriptions(member.id) == []


def _answers(alert_id: str) -> list[tuple[str, str]]:
    db.session.commit()  # a fresh transaction sees what the server committed
    rows = db.session.scalars(select(AlertAnswer).where(AlertAnswer.alert_id == alert_id))
    return [(a.member_id, a.answer) for a in rows]


def _wait_for(condition: Any, page: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    while not (result := condition()) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return result


def test_a_tap_that_answered_says_so_on_the_phone(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    raiser = live_members.make(name="Rita Raiser")
    helper = live_members.make(name="Hugo Helper")
    _subscribe_with_the_switch(page, live_server, helper)
    alert = raise_alert(raiser)
    [worker] = page.context.service_workers
    assert worker.evaluate(TAP_ACTION, [f"/alerts/{alert.id}", "can_help"]) == "done"
    assert _answers(alert.id) == [(helper.id, "can_help")]
    [said] = _wait_for(lambda: notifications(page), page)
    assert (said["title"], said["body"]) == ("I can help", "Your answer was sent.")
    assert said["actions"] == [] and said["data"]["url"] == f"/alerts/{alert.id}"


def test_a_tap_without_a_connection_waits_on_the_phone_and_goes_once_it_is_online(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    """At the scene the signal comes and goes: the tap is kept on the device (never lost),
    the phone says so, and the answer goes when the phone is online again — on the browser's
    Background Sync, and where there is none (Safari), with the next page the member opens."""
    raiser = live_members.make(name="Rita Raiser")
    helper = live_members.make(name="Hugo Helper")
    _subscribe_with_the_switch(page, live_server, helper)
    first, second = raise_alert(raiser), raise_alert(raiser)
    [worker] = page.context.service_workers
    cdp = page.context.new_cdp_session(page)
    registration = registration_id(cdp, live_server.url)

    page.context.set_offline(True)
    try:
        assert worker.evaluate(TAP_ACTION, [f"/alerts/{first.id}", "can_help"]) == "done"
        assert worker.evaluate(TAP_ACTION, [f"/alerts/{second.id}", "seen"]) == "done"
        shown = _wait_for(lambda: len(notifications(page)) == 2 and notifications(page), page)
        assert {n["body"] for n in shown} == {
            "No connection: your answer will be sent when this phone is online again."
        }
        assert _answers(first.id) == [] and _answers(second.id) == []
    finally:
        page.context.set_offline(False)

    # Background Sync (Chromium): the browser fires "answers" once it is online.
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": live_server.url,
            "registrationId": registration,
            "tag": "answers",
            "lastChance": False,
        },
    )
    assert _wait_for(lambda: _answers(first.id), page) == [(helper.id, "can_help")]
    assert _wait_for(lambda: _answers(second.id), page) == [(helper.id, "seen")]
    said = _wait_for(
        lambda: [n for n in notifications(page) if n["body"] == "Your answer was sent."], page
    )
    assert sorted(n["title"] for n in said) == ["I can help", "Seen"]

    # No Background Sync: the next page the member opens sends what waits.
    third = raise_alert(raiser)
    page.context.set_offline(True)
    try:
        assert worker.evaluate(TAP_ACTION, [f"/alerts/{third.id}", "can_help"]) == "done"
    finally:
        page.context.set_offline(False)
    assert _answers(third.id) == []
    page.goto(live_server.link("/offline"))
    assert _wait_for(lambda: _answers(third.id), page) == [(helper.id, "can_help")]


def test_a_tap_the_server_refuses_opens_the_alert_and_nothing_waits(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    raiser = live_members.make(name="Rita Raiser")
    helper = live_members.make(name="Hugo Helper")
    _subscribe_with_the_switch(page, live_server, helper)
    alert = raise_alert(raiser)
    alert.status = "resolved"
    db.session.commit()
    [worker] = page.context.service_workers
    # A stand-in event gives no window to open: note what the worker would open instead.
    worker.evaluate(
        "() => { self.clients.openWindow = function (url) {"
        " self.__opened = url; return Promise.resolve(null); }; }"
    )
    assert worker.evaluate(TAP_ACTION, [f"/alerts/{alert.id}", "can_help"]) == "done"
    assert _answers(alert.id) == []
    waiting = worker.evaluate(
        """() => waitingAnswers().then(function (taps) { return taps.length; })"""
    )
    assert waiting == 0
    assert worker.evaluate("() => self.__opened") == live_server.link(f"/alerts/{alert.id}")


def test_the_next_member_on_a_shared_browser_ends_the_previous_members_device(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    """Rana turns notifications on at a shared office computer and walks away; her sign-in
    times out (no sign-out). Olga signs in on that browser: Rana's device ends, its credential
    leaves the browser, and what was copied from it answers nothing (found by the review)."""
    rana = live_members.make(name="Rana Shared")
    _subscribe_with_the_switch(
        page, live_server, rana, stand_in=SUBSCRIBED_STAND_IN, device="device-shared"
    )
    credential = page.evaluate(STORED_CREDENTIAL)
    assert credential
    page.goto("about:blank")
    page.context.clear_cookies()  # her sign-in timed out: the cookie no longer signs in
    olga = live_members.make(name="Olga Next")
    _sign_in(page, live_server, olga)
    page.goto(live_server.link("/"))
    page.wait_for_function(
        STORED_CREDENTIAL.replace("resolve(reading.result || null)", "resolve(!reading.result)")
    )
    db.session.commit()
    assert subscriptions.live_subscriptions(rana.id) == []
    assert subscriptions.live_subscriptions(olga.id) == []  # hers only when she turns it on
    alert = raise_alert(live_members.make(name="Raiser"))
    response = live_server.app.test_client().post(
        f"/alerts/{alert.id}/device-answer",
        json={"answer": "can_help"},
        headers={"Authorization": f"Bearer {credential}"},
    )
    assert response.status_code == 401


def test_release_ends_only_another_members_device_and_only_with_its_endpoint(
    live_server: LiveServer, live_members: Members
) -> None:
    """The release route as an attacker would use it: signed out, without CSRF, with a made-up
    endpoint, or with one's own endpoint: nothing ends."""
    rana, olga = live_members.make(), live_members.make()
    live_server.app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    device = browser_subscription("http://127.0.0.1:9/push/rana-phone")
    subscriptions.subscribe(rana, device, session_ref=None)
    db.session.commit()
    with live_server.app.test_request_context():
        assert subscriptions.release(olga, {"endpoint": device["endpoint"] + "x"}) is False
        assert subscriptions.release(rana, {"endpoint": device["endpoint"]}) is False
        for junk in (None, [], {"endpoint": 5}, {"endpoint": "x" * 5000}):
            with pytest.raises(Invalid):
                subscriptions.release(olga, junk)
    db.session.rollback()
    assert len(subscriptions.live_subscriptions(rana.id)) == 1
    client = live_server.app.test_client()
    assert client.post(
        "/notifications/push/release", json={"endpoint": device["endpoint"]}
    ).status_code in (400, 401)  # no CSRF token, no sign-in
    assert len(subscriptions.live_subscriptions(rana.id)) == 1
