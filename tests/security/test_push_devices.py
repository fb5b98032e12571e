"""A member's devices for Web Push, from the outside: only a signed-in member with the page's
CSRF token subscribes, only to a real push service, gets a credential for that device only, and
removes only their own devices."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from forum.extensions import db
from forum.members.models import Member, MemberSession
from forum.notify import subscriptions
from forum.notify.models import PushSubscription
from tests.support.clients import Browser
from tests.support.members import Members
from tests.support.pwa import browser_subscription

SUBSCRIBE = "/notifications/push/subscribe"


def _post_json(browser: Browser, body: Any, *, csrf: bool = True) -> Any:
    headers = {"X-CSRFToken": browser.csrf_token(), "Accept": "application/json"} if csrf else {}
    return browser._run(browser.client.post, SUBSCRIBE, json=body, headers=headers)


def _devices(member: Member) -> list[PushSubscription]:
    db.session.expire_all()
    return subscriptions.live_subscriptions(member.id)


def test_a_member_subscribes_this_browser_and_gets_its_answer_credential(
    members: Members, make_browser: Any
) -> None:
    member = members.make()
    browser = make_browser(member)
    response = _post_json(browser, browser_subscription())
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "credential"}
    [device] = _devices(member)
    assert device.id == body["id"]
    session_id = db.session.scalar(
        select(MemberSession.id).where(MemberSession.member_id == member.id)
    )
    assert device.session_ref == session_id  # ends when this browser signs out
    owner = subscriptions.credential_owner(body["credential"])
    assert owner is not None and owner.member_id == member.id and owner.subscription_id == device.id
    assert body["credential"] not in device.credential_hash


def test_the_server_key_is_the_one_pushes_are_signed_with(
    members: Members, make_browser: Any, browser: Browser
) -> None:
    response = make_browser(members.make()).get("/notifications/push/key")
    assert response.status_code == 200
    assert response.get_json() == {"key": subscriptions.vapid_public_key()}
    assert browser.get("/notifications/push/key").status_code == 302  # signed out: sign in


def test_subscribing_needs_a_sign_in_and_the_pages_csrf_token(
    app: Flask, members: Members, make_browser: Any, browser: Browser
) -> None:
    member = members.make()
    anonymous = _post_json(browser, browser_subscription())
    assert anonymous.status_code == 401  # a script asking for JSON is told, not redirected
    forged = _post_json(make_browser(member), browser_subscription(), csrf=False)
    assert forged.status_code == 400
    assert db.session.scalar(select(PushSubscription.id)) is None


def test_an_address_that_is_not_a_push_service_is_refused_in_a_sentence(
    members: Members, make_browser: Any
) -> None:
    member = members.make()
    browser = make_browser(member)
    for endpoint in (
        "https://attacker.example/collect",
        "https://fcm.googleapis.com.evil.example/x",
    ):
        response = _post_json(browser, browser_subscription(endpoint))
        assert response.status_code == 400
        assert response.get_json() == {"error": subscriptions.REFUSED_SERVICE}
    broken = browser_subscription()
    broken["keys"]["p256dh"] = broken["keys"]["p256dh"][:20]
    response = _post_json(browser, broken)
    assert response.status_code == 400
    assert response.get_json()["error"].endswith(".")
    assert _post_json(browser, "not a subscription").status_code == 400
    assert _devices(member) == []


def test_a_loopback_endpoint_is_refused_unless_the_operator_allowed_it(
    app: Flask, members: Members, make_browser: Any
) -> None:
    member = members.make()
    browser = make_browser(member)
    loopback = "http://127.0.0.1:9/push/device-1"
    refused = _post_json(browser, browser_subscription(loopback))
    assert refused.status_code == 400
    assert refused.get_json() == {"error": subscriptions.REFUSED_SERVICE}
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    assert _post_json(browser, browser_subscription(loopback)).status_code == 201
    assert len(_devices(member)) == 1


def test_subscribing_is_rate_limited_per_member(members: Members, make_browser: Any) -> None:
    browser = make_browser(members.make())
    answers = [_post_json(browser, browser_subscription()).status_code for _ in range(11)]
    assert answers == [201] * 10 + [429]


def test_a_member_removes_their_own_device_and_its_credential_stops_working(
    members: Members, make_browser: Any
) -> None:
    member = members.make()
    browser = make_browser(member)
    body = _post_json(browser, browser_subscription()).get_json()
    response = browser.post(f"/notifications/push/{body['id']}/remove")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/sessions")
    assert "Device removed." in browser.get(response.headers["Location"]).get_data(as_text=True)
    assert _devices(member) == []
    assert subscriptions.credential_owner(body["credential"]) is None


def test_nobody_removes_another_members_device(members: Members, make_browser: Any) -> None:
    owner, other = members.make(), members.make()
    body = _post_json(make_browser(owner), browser_subscription()).get_json()
    stranger = make_browser(other)
    assert stranger.post(f"/notifications/push/{body['id']}/remove").status_code == 404
    assert stranger.post("/notifications/push/no-such-device/remove").status_code == 404
    assert [device.id for device in _devices(owner)] == [body["id"]]
    forged = make_browser(owner).client.post(f"/notifications/push/{body['id']}/remove")
    assert forged.status_code == 400  # no CSRF token
    assert len(_devices(owner)) == 1


def test_the_remove_goes_back_only_to_a_page_of_this_site(
    members: Members, make_browser: Any
) -> None:
    member = members.make()
    browser = make_browser(member)
    first = _post_json(browser, browser_subscription()).get_json()
    second = _post_json(browser, browser_subscription()).get_json()
    back = browser.post(f"/notifications/push/{first['id']}/remove", {"next": "/notifications"})
    assert back.headers["Location"].endswith("/notifications")
    away = browser.post(
        f"/notifications/push/{second['id']}/remove", {"next": "//attacker.example/"}
    )
    assert "attacker.example" not in away.headers["Location"]


def test_the_sessions_page_offers_the_switch_for_this_device(
    members: Members, make_browser: Any
) -> None:
    page = make_browser(members.make()).get("/account/sessions").get_data(as_text=True)
    assert "Turn on notifications on this device" in page
    assert 'data-subscribe="/notifications/push/subscribe"' in page
    assert 'data-key="/notifications/push/key"' in page


def test_the_member_sees_their_devices_and_removes_one_from_the_list(
    members: Members, make_browser: Any
) -> None:
    member, other = members.make(), members.make()
    browser = make_browser(member)
    mine = _post_json(browser, browser_subscription()).get_json()
    theirs = _post_json(make_browser(other), browser_subscription()).get_json()
    page = browser.get("/account/sessions").get_data(as_text=True)
    assert f"/notifications/push/{mine['id']}/remove" in page
    assert theirs["id"] not in page
    assert "(this sign-in)" in page and "no notification yet" in page
    assert "fcm.googleapis.com" not in page  # the endpoint is never shown
    response = browser.post(
        f"/notifications/push/{mine['id']}/remove", {"next": "/account/sessions"}
    )
    assert response.headers["Location"].endswith("/account/sessions")
    page = browser.get("/account/sessions").get_data(as_text=True)
    assert "Device removed." in page and mine["id"] not in page


def test_with_push_off_there_is_no_key_no_switch_and_no_subscribing(
    app: Flask, members: Members, make_browser: Any
) -> None:
    app.config["EXCHANGE"]["push"]["enabled"] = False
    member = members.make()
    browser = make_browser(member)
    assert browser.get("/notifications/push/key").status_code == 404
    assert "Turn on notifications" not in browser.get("/account/sessions").get_data(as_text=True)
    response = _post_json(browser, browser_subscription())
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Push notifications are not available on this Exchange."
    }
    assert _devices(member) == []


def test_the_remove_forms_next_cannot_leave_the_site_by_any_spelling(
    members: Members, make_browser: Any, app: Flask
) -> None:
    from forum.notify.services import safe_link

    for sneaky in (
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/ /evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\x00/evil",
    ):
        assert safe_link(sneaky) == "/notifications", repr(sneaky)
    assert safe_link("/account/sessions") == "/account/sessions"
    member = members.make()
    browser = make_browser(member)
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    response = _post_json(browser, browser_subscription("http://127.0.0.1:9/push/next"))
    device_id = response.get_json()["id"]
    removed = browser.post(f"/notifications/push/{device_id}/remove", {"next": "/\t/evil.example"})
    assert removed.status_code in (302, 303)
    assert removed.headers["Location"].endswith("/notifications")
