"""An attack reaches a closed phone, and she answers from the notification.

`exchange serve` as the README says, on an empty folder, with the one setting a deployment with
an internal push service sets (`EXCHANGE_PUSH_ALLOW_HOSTS`) → the first coordinator joins →
a member invited from the command line joins on her phone and turns on notifications (headless
Chromium has no push service of its own: its `PushManager.subscribe` is stood in for, giving an
endpoint on the run's loopback push service and keys the test holds, as a phone's would be) →
the coordinator raises an alert → the push service checks the VAPID signature against the key
the Exchange published and decrypts the message with the phone's key → that very message is
delivered to the phone's service worker through DevTools → the notification says only that an
urgent alert came, with "Seen" and "I can help" → her tap answers, with no session → the
coordinator's board shows "I can help" for her.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.journeys.people import choose_country, join
from tests.support.axe import violations
from tests.support.journeys import PHONE, ServedExchange, empty_database, overflow, serve
from tests.support.mail import Mailbox
from tests.support.push_service import PushService
from tests.support.pwa import SUBSCRIBE_STAND_IN, TAP_ACTION, notifications, registration_id

PASSWORD_COORDINATOR = "amber lantern across 41 rivers"
PASSWORD_MEMBER = "violet quay beneath 17 bridges"
TITLE = "Explosion at the harbour CANARY-9d2e"


@pytest.fixture
def push_service() -> Iterator[PushService]:
    with PushService() as service:
        yield service


@pytest.fixture
def served(
    tmp_path: Path, backend: str, smtp_server: tuple[Controller, Mailbox], mailbox: Mailbox
) -> Iterator[ServedExchange]:
    settings = {"EXCHANGE_PUSH_ALLOW_HOSTS": "127.0.0.1"}
    with empty_database(backend) as database_url:
        yield from serve(tmp_path, database_url, smtp_server[0].port, mailbox, settings)


def test_an_alert_reaches_her_phone_and_she_answers_from_the_notification(
    served: ServedExchange, person: Any, push_service: PushService
) -> None:
    coordinator = person()
    join(
        coordinator,
        served.setup_link(),
        email="first.coordinator@example.org",
        name="Clara Coordinator",
        password=PASSWORD_COORDINATOR,
    )
    invited = served.exchange("invite", "nadia.member@example.org", "--organisation", "Aide Lyon")
    assert invited.returncode == 0, invited.stderr
    link = re.search(r"http://\S+/invite/\S+", invited.stdout)
    assert link

    # Her phone: the browser's push subscription is one on the run's push service.
    device = push_service.device()
    phone = person(**PHONE)
    phone.context.grant_permissions(["notifications"], origin=served.url)
    phone.add_init_script(SUBSCRIBE_STAND_IN % json.dumps(device.subscription()))
    join(
        phone,
        link.group(0),
        email="nadia.member@example.org",
        name="Nadia Member",
        password=PASSWORD_MEMBER,
    )
    for path in ("/", "/alerts", "/threads", "/calls", "/notifications", "/notifications/settings"):
        phone.goto(path)
        assert overflow(phone) <= 0, path  # every page fits her phone's screen
        assert violations(phone) == [], path  # and passes axe-core's WCAG 2.2 AA checks
    phone.goto("/account/sessions")
    assert overflow(phone) <= 0
    phone.get_by_role("button", name="Turn on notifications on this device").click()
    expect(phone.get_by_text("Notifications are on for this device.")).to_be_visible()
    published = phone.evaluate(
        "() => fetch('/notifications/push/key').then(function (r) { return r.json(); })"
    )
    push_service.vapid_public_key = published["key"]  # VAPID is checked against this key

    # The attack: the coordinator raises an alert.
    coordinator.get_by_role("link", name="Raise alert").first.click()
    coordinator.get_by_label("Short title").fill(TITLE)
    choose_country(coordinator, "France", code="FR")
    coordinator.get_by_label(re.compile("when it happened", re.I)).fill(
        datetime.now().strftime("%Y-%m-%dT%H:%M")
    )
    coordinator.get_by_label("What is needed").fill("Liaison officers for foreign families.")
    coordinator.get_by_role("button", name=re.compile("raise|send", re.I)).last.click()
    expect(coordinator.get_by_role("heading", level=1)).to_contain_text(TITLE)
    alert_path = "/" + coordinator.url.split("/", 3)[3]

    deadline = time.monotonic() + 30  # a bound for the test, not a timing assertion
    while not push_service.messages_for(device) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert push_service.refused == []
    [message] = push_service.messages_for(device)
    assert message.headers["urgency"] == "high"
    assert message.payload["body"] == "Urgent alert — open the Exchange"
    assert message.payload["url"] == alert_path
    assert (
        "CANARY" not in message.plaintext.decode() and "harbour" not in message.plaintext.decode()
    )

    # The message the push service holds reaches the phone's worker, as her push service would.
    phone.goto(alert_path)
    assert overflow(phone) <= 0
    phone.goto("about:blank")  # no page of hers is open, polling, when her session is gone
    phone.context.clear_cookies()  # her sign-in has expired on the phone: the tap still answers
    phone.goto("/sign-in")
    assert overflow(phone) <= 0
    cdp = phone.context.new_cdp_session(phone)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": served.url,
            "registrationId": registration_id(cdp, served.url),
            "data": message.plaintext.decode(),
        },
    )
    [shown] = notifications(phone)
    assert shown["body"] == "Urgent alert — open the Exchange"
    assert shown["actions"] == [["seen", "Seen"], ["can_help", "I can help"]]
    assert TITLE not in json.dumps(shown)

    [worker] = phone.context.service_workers
    assert worker.evaluate(TAP_ACTION, [shown["data"]["url"], "can_help"]) == "done"

    coordinator.goto(alert_path + "/board")
    board = coordinator.get_by_role("main")
    expect(board.get_by_text("Nadia Member")).to_be_visible()
    expect(board.get_by_text("I can help").first).to_be_visible()
    for page in (coordinator, phone):
        assert not [e for e in page.console_errors if "favicon" not in e]
