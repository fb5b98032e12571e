"""The answer credential a device holds: it answers alerts of its own member's audience from a
notification, and it does nothing else — no cookie stands in for it, it reads nothing, it dies
with its subscription, and it is rate limited."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from forum.alerts import services
from forum.alerts.models import AlertAnswer
from forum.extensions import db
from forum.members import admin
from forum.notify import subscriptions
from forum.notify.models import PushSubscription
from tests.support.alerts import CANARY, raise_alert


@pytest.fixture
def device(app, members):
    """A member with one subscribed device: (member, credential, subscription id)."""
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    member = members.make(country="BE")
    endpoint_device = _device()
    made = subscriptions.subscribe(member, endpoint_device, session_ref=None, user_agent="")
    db.session.commit()
    return member, made.credential, made.subscription.id


def _device() -> dict:
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.support.push_service import Device

    return Device(
        endpoint=f"http://127.0.0.1:9/push/{secrets.token_urlsafe(16)}",
        private_key=ec.generate_private_key(ec.SECP256R1()),
        auth=b"0123456789abcdef",
    ).subscription()


def _answer(app, alert_id: str, credential: str | None, answer: str = "can_help", **kwargs):
    headers = {"Authorization": f"Bearer {credential}"} if credential is not None else {}
    return app.test_client().post(
        f"/alerts/{alert_id}/device-answer", json={"answer": answer}, headers=headers, **kwargs
    )


def _answer_of(member, alert) -> str | None:
    db.session.expire_all()
    return db.session.scalar(
        select(AlertAnswer.answer).where(
            AlertAnswer.member_id == member.id, AlertAnswer.alert_id == alert.id
        )
    )


def test_a_device_answers_with_its_credential_and_the_board_shows_it(app, members, device):
    member, credential, _ = device
    raiser = members.make()
    coordinator = members.coordinator()
    alert = raise_alert(raiser)
    response = _answer(app, alert.id, credential)
    assert response.status_code == 204 and response.get_data() == b""
    board = services.board(coordinator, alert.id)
    assert [(row.member.id, row.answer.answer) for row in board.answered] == [
        (member.id, "can_help")
    ]
    assert _answer(app, alert.id, credential, "seen").status_code == 204  # an old notification
    assert _answer_of(member, alert) == "can_help"  # ... never takes an answer back


def test_a_tap_never_overwrites_a_fuller_answer_given_on_the_page(app, members, device):
    member, credential, _ = device
    alert = raise_alert(members.make())
    services.answer_alert(member, alert.id, "nationals_affected", note="Three of ours in hospital")
    db.session.commit()
    for tap in ("seen", "can_help"):
        assert _answer(app, alert.id, credential, tap).status_code == 204
    db.session.expire_all()
    row = db.session.scalar(select(AlertAnswer).where(AlertAnswer.member_id == member.id))
    assert row.answer == "nationals_affected" and row.note == "Three of ours in hospital"


def test_seen_then_i_can_help_from_the_phone_keeps_the_note(app, members, device):
    member, credential, _ = device
    alert = raise_alert(members.make())
    services.answer_alert(member, alert.id, "seen", note="On my way to the office")
    db.session.commit()
    assert _answer(app, alert.id, credential, "can_help").status_code == 204
    db.session.expire_all()
    row = db.session.scalar(select(AlertAnswer).where(AlertAnswer.member_id == member.id))
    assert row.answer == "can_help" and row.note == "On my way to the office"


def test_a_coordinators_device_answers_only_alerts_of_her_own_audience(app, members):
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    coordinator = members.coordinator(country="DE")
    made = subscriptions.subscribe(coordinator, _device(), session_ref=None)
    db.session.commit()
    alert = raise_alert(members.make(country="FR"), countries=["FR"])
    missing = _answer(app, "0123456789abcdef0123456789abcdef", made.credential)
    outside = _answer(app, alert.id, made.credential)
    assert outside.status_code == missing.status_code == 404
    assert outside.get_data() == missing.get_data()


def test_junk_credentials_from_one_address_never_hold_back_a_real_device(app, members, device):
    member, credential, _ = device
    alert = raise_alert(members.make())
    junk = [_answer(app, alert.id, f"{n:043d}").status_code for n in range(601)]
    assert junk[:600] == [401] * 600 and junk[600] == 429  # the address's junk is limited
    assert _answer(app, alert.id, credential).status_code == 204  # a real one still answers


def test_no_credential_a_wrong_one_or_a_session_cookie_alone_is_refused(
    app, members, device, make_browser
):
    member, credential, _ = device
    alert = raise_alert(members.make())
    assert _answer(app, alert.id, None).status_code == 401
    assert _answer(app, alert.id, credential[:-2] + "xx").status_code == 401
    assert _answer(app, alert.id, "a" * 5000).status_code == 401
    signed_in = make_browser(member)  # a signed-in browser: its cookie is not a credential
    response = signed_in.client.post(f"/alerts/{alert.id}/device-answer", json={"answer": "seen"})
    assert response.status_code == 401
    basic = app.test_client().post(
        f"/alerts/{alert.id}/device-answer",
        json={"answer": "seen"},
        headers={"Authorization": f"Basic {credential}"},
    )
    assert basic.status_code == 401
    assert _answer_of(member, alert) is None


def test_outside_the_audience_the_answer_is_the_same_404_as_for_no_alert(app, members, device):
    member, credential, _ = device  # in BE
    alert = raise_alert(members.make(country="FR"), countries=["FR"])
    outside = _answer(app, alert.id, credential)
    missing = _answer(app, "0123456789abcdef0123456789abcdef", credential)
    assert outside.status_code == missing.status_code == 404
    assert outside.get_data() == missing.get_data()
    assert CANARY not in outside.get_data(as_text=True)
    assert _answer_of(member, alert) is None


def test_the_credential_reads_nothing(app, members, device):
    _, credential, _ = device
    alert = raise_alert(members.make())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {credential}"}
    for path in (f"/alerts/{alert.id}", "/alerts", "/", f"/alerts/{alert.id}/board", "/threads"):
        response = client.get(path, headers=headers)
        assert response.status_code in (302, 401, 404), path
        assert CANARY not in response.get_data(as_text=True)
    assert client.post(
        f"/alerts/{alert.id}/answer", data={"answer": "seen"}, headers=headers
    ).status_code in (302, 400, 401)


def test_only_the_two_notification_answers_are_taken(app, members, device):
    member, credential, _ = device
    alert = raise_alert(members.make())
    for bad in ("nationals_affected", "not_available", "", "x" * 200):
        assert _answer(app, alert.id, credential, bad).status_code == 400
    not_json = app.test_client().post(
        f"/alerts/{alert.id}/device-answer",
        data="answer=seen",
        headers={"Authorization": f"Bearer {credential}"},
    )
    assert not_json.status_code == 400
    assert _answer_of(member, alert) is None


def test_a_removed_device_or_a_suspended_member_can_no_longer_answer(app, members, device):
    member, credential, subscription_id = device
    alert = raise_alert(members.make())
    subscriptions.remove(member, subscription_id)
    db.session.commit()
    assert _answer(app, alert.id, credential).status_code == 401

    again = subscriptions.subscribe(members_device := member, _device(), session_ref=None)
    db.session.commit()
    assert _answer(app, alert.id, again.credential).status_code == 204
    admin.suspend(members.coordinator(), members_device)
    db.session.commit()
    assert _answer(app, alert.id, again.credential).status_code == 401


def test_a_closed_alert_refuses_in_words(app, members, device):
    _, credential, _ = device
    raiser = members.make()
    alert = raise_alert(raiser)
    from forum.alerts import coordination

    coordination.resolve(raiser, alert.id, "Handled")
    db.session.commit()
    response = _answer(app, alert.id, credential)
    assert response.status_code == 409
    assert "answers are closed" in response.get_json()["error"]


def test_answers_from_one_credential_are_rate_limited(app, members, device):
    member, credential, _ = device
    app.config["EXCHANGE"]["push"]["answers_per_hour"] = 3
    other = subscriptions.subscribe(members.make(), _device(), session_ref=None)
    db.session.commit()
    alert = raise_alert(members.make())
    codes = [_answer(app, alert.id, credential).status_code for _ in range(4)]
    assert codes == [204, 204, 204, 429]
    assert _answer(app, alert.id, other.credential).status_code == 204  # its own bucket
    rows = db.session.scalars(select(PushSubscription.credential_hash))
    assert credential not in set(rows)  # only its hash is stored
