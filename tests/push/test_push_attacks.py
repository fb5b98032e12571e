"""What a hostile browser or a changed DNS could do with a push subscription, and what a stolen
database shows of one.

An endpoint is a URL a browser handed us: when saved it must be on a known push service (or
`push.allow_hosts`), and when sent every address its host resolves to must be public, and the
connection goes to that checked address. No test here connects anywhere but loopback."""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.crypto import envelope
from forum.errors import Invalid
from forum.extensions import db
from forum.notify import subscriptions
from forum.notify.channels import addresses
from forum.notify.channels.push import BAD_KEYS, NOT_DELIVERED
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import OutboxMessage, PushSubscription
from tests.support.alerts import raise_alert
from tests.support.push_service import b64url


def _subscription(endpoint: str, device) -> dict:  # type: ignore[no-untyped-def]
    data = device.subscription()
    data["endpoint"] = endpoint
    return data


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080/push/x",  # loopback, not allow-listed in this test
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/push",
        "https://[::ffff:127.0.0.1]/push",
        "https://evil.example.org/push/x",  # not a push service
        "https://fcm.googleapis.com.evil.example/push",  # a look-alike
        "https://user@fcm.googleapis.com/fcm/send/x",
        # a push service's host, but not https on 443: a port its front end drops would hold
        # each send for the whole timeout, at every alert and every retry
        "https://fcm.googleapis.com:444/fcm/send/x",
        "https://fcm.googleapis.com:22/fcm/send/x",
        "https://web.push.apple.com:8443/QGx",
        "http://fcm.googleapis.com/fcm/send/x",
        "javascript:alert(1)",
        "",
    ],
)
def test_an_endpoint_that_is_not_a_push_service_is_refused_when_subscribing(
    app, members, push_service, endpoint
):
    app.config["EXCHANGE"]["push"]["allow_hosts"] = ""
    member = members.make()
    with pytest.raises(Invalid):
        subscriptions.subscribe(
            member, _subscription(endpoint, push_service.device()), session_ref=None
        )
    db.session.rollback()
    assert db.session.scalar(select(PushSubscription)) is None


@pytest.mark.parametrize(
    "endpoint",
    ["https://fcm.googleapis.com/fcm/send/x", "https://fcm.googleapis.com:443/fcm/send/x"],
)
def test_an_endpoint_on_a_push_service_over_https_on_443_is_taken(
    app, members, push_service, endpoint
):
    app.config["EXCHANGE"]["push"]["allow_hosts"] = ""
    made = subscriptions.subscribe(
        members.make(), _subscription(endpoint, push_service.device()), session_ref=None
    )
    assert made.subscription.ended_at is None


def test_an_allowed_internal_push_service_keeps_any_port(app, members, push_service):
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "push.internal.example"
    made = subscriptions.subscribe(
        members.make(),
        _subscription("http://push.internal.example:8080/push/x", push_service.device()),
        session_ref=None,
    )
    assert made.subscription.ended_at is None


@pytest.mark.parametrize(
    "keys",
    [
        {},
        {"p256dh": "not base64!", "auth": "AAAAAAAAAAAAAAAAAAAAAA"},
        {"p256dh": b64url(b"\x04" + b"\x00" * 64), "auth": b64url(b"short")},
        {"p256dh": b64url(b"\x02" * 33), "auth": b64url(b"0123456789abcdef")},
        # 65 bytes with the 0x04 prefix, but (0, 0) is not on P-256: every send would fail
        {"p256dh": b64url(b"\x04" + b"\x00" * 64), "auth": b64url(b"0123456789abcdef")},
        # the right letters, yet not base64 at all
        {"p256dh": "A", "auth": b64url(b"0123456789abcdef")},
        {"p256dh": "AAAAA", "auth": b64url(b"0123456789abcdef")},
        {"p256dh": "A==", "auth": b64url(b"0123456789abcdef")},
    ],
)
def test_keys_that_are_not_a_p256_point_and_a_16_byte_secret_are_refused(
    members, push_service, keys
):
    data = push_service.device().subscription()
    data["keys"] = keys
    with pytest.raises(Invalid):
        subscriptions.subscribe(members.make(), data, session_ref=None)


def test_a_device_whose_keys_cannot_be_encrypted_to_fails_at_once_not_retried(
    app, members, push_service, add_device
):
    """A subscription stored before its point was checked: no later try can encrypt to it."""
    add_device(members.make())
    row = db.session.scalar(select(PushSubscription))
    data = subscriptions.subscription_info(row)
    data["keys"]["p256dh"] = b64url(b"\x04" + b"\x00" * 64)
    row.seal("subscription", json.dumps(data), key_id=row.dek_id)
    db.session.commit()
    raise_alert(members.make())
    dispatch_due()
    db.session.commit()
    db.session.expire_all()
    sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "push"))
    assert sent.status == "failed" and sent.last_error == BAD_KEYS
    assert push_service.received == []


def _post_json(browser, path: str, data: str):  # type: ignore[no-untyped-def]
    return browser._run(
        browser.client.post,
        path,
        data=data,
        headers={"Content-Type": "application/json", "X-CSRFToken": browser.csrf_token()},
    )


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,  # the JSON parser's RecursionError is not the ValueError it hides
        json.dumps({"endpoint": "http://127.0.0.1:9/push/x", "keys": {"p256dh": "A", "auth": "A"}}),
        json.dumps(
            {"endpoint": "http://127.0.0.1:9/push/x", "keys": {"p256dh": "A==", "auth": ""}}
        ),
    ],
    ids=["nested", "not-base64", "padding-only"],
)
def test_a_malformed_subscription_is_a_400_with_a_sentence_not_a_500(
    app, members, push_service, make_browser, body
):
    response = _post_json(make_browser(members.make()), "/notifications/push/subscribe", body)
    assert response.status_code == 400
    assert response.get_json()["error"]


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000, '{"answer": ["seen"]}', '{"answer": {"seen": 1}}', '"seen"'],
    ids=["nested", "list", "object", "bare-string"],
)
def test_a_malformed_device_answer_is_a_400_with_a_sentence_not_a_500(
    app, members, push_service, add_device, body
):
    _phone, credential = add_device(members.make())
    alert = raise_alert(members.make())
    response = app.test_client().post(
        f"/alerts/{alert.id}/device-answer",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {credential}"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "Please choose Seen or I can help."


@pytest.mark.parametrize(
    "answers", [["169.254.169.254"], ["10.0.0.7"], ["142.250.1.1", "127.0.0.1"]]
)
def test_a_push_service_name_resolving_inside_is_refused_when_sent(
    app, members, monkeypatch, push_service, answers
):
    app.config["EXCHANGE"]["push"]["allow_hosts"] = ""
    member = members.make()
    device = push_service.device()
    subscriptions.subscribe(
        member, _subscription("https://fcm.googleapis.com/fcm/send/abc", device), session_ref=None
    )
    db.session.commit()
    attempts: list[object] = []
    real = socket.create_connection

    def guarded(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        if address[1] == 443:  # the e-mail to the same member goes to the local SMTP server
            attempts.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    monkeypatch.setattr(
        addresses, "resolve", lambda host, port: [ipaddress.ip_address(a) for a in answers]
    )
    raise_alert(members.make())
    dispatch_due()
    db.session.commit()
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "push"))
    assert row.status == "failed" and row.last_error == NOT_DELIVERED
    assert attempts == []


def test_an_allow_list_that_shrank_stops_sends_to_an_internal_service(
    app, members, push_service, add_device
):
    add_device(members.make())  # saved while 127.0.0.1 was allowed
    app.config["EXCHANGE"]["push"]["allow_hosts"] = ""
    raise_alert(members.make())
    dispatch_due()
    db.session.commit()
    assert push_service.received == []
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "push"))
    assert row.status == "failed"


def test_a_redirect_from_the_push_service_is_not_followed(app, members, push_service, add_device):
    phone, _ = add_device(members.make())
    push_service.answers[phone.path] = 307
    raise_alert(members.make())
    dispatch_due()
    db.session.commit()
    db.session.expire_all()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "push"))
    assert row.status == "pending" and row.last_error == "push service answered HTTP 307"


def _stored_bytes(instance: Path, backend: str) -> bytes:
    db.session.commit()
    if backend == "sqlite":
        db.session.close()
        raw = db.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        return b"".join(p.read_bytes() for p in instance.glob("exchange.db*"))
    return "\n".join(
        repr(tuple(row))
        for table in db.metadata.sorted_tables
        for row in db.session.execute(select(table))
    ).encode()


def test_endpoints_keys_and_credentials_are_not_in_the_database_in_the_clear(
    app, members, push_service, add_device, instance, backend
):
    phone, credential = add_device(members.make())
    raise_alert(members.make())
    dispatch_due()
    stored = _stored_bytes(instance, backend)
    data = phone.subscription()
    secret_path = phone.path.rsplit("/", 1)[1]
    for clear in (secret_path, data["keys"]["p256dh"], data["keys"]["auth"], credential):
        assert clear.encode() not in stored, clear
    assert phone.auth not in stored
    vapid = envelope.keyring().vapid_key
    assert vapid and vapid not in stored  # the signing key lives in the keyring file only
    assert base64.b64encode(vapid) not in stored


def test_a_removed_device_s_subscription_cannot_be_opened_any_more(
    app, members, push_service, add_device
):
    member = members.make()
    add_device(member)
    row = db.session.scalar(select(PushSubscription))
    sealed = row.subscription_sealed
    subscriptions.remove(member, row.id)
    db.session.commit()
    copy = PushSubscription(id=row.id, dek_id=row.dek_id, subscription_sealed=sealed)
    with pytest.raises(Exception, match="(?i)key|shred|seal"):
        copy.open("subscription")


def test_a_removed_member_leaves_no_quiet_hours_choices_or_device_names(
    app, members, push_service, add_device
):
    """What a stolen database would still say of a removed member: not when she sleeps, not
    what she was told or when she read it, not which phone and push service she used (found
    by the reviews)."""
    from forum.members import admin
    from forum.notify import preferences
    from forum.notify.models import DeliveryChoice, QuietHours

    coordinator, member = members.coordinator(), members.make()
    add_device(member)
    preferences.save_choices(member, {"mentions": "push"})
    preferences.save_quiet_hours(member, 22 * 60, 7 * 60)
    db.session.commit()
    raise_alert(members.make())  # her bell and her outbox get rows
    db.session.commit()
    from forum.notify.models import Notification

    assert db.session.scalars(select(Notification).where(Notification.member_id == member.id)).all()
    admin.remove(coordinator, member)
    db.session.commit()
    for table in (Notification, OutboxMessage):
        assert db.session.scalars(select(table).where(table.member_id == member.id)).all() == []
    assert (
        db.session.scalars(
            select(DeliveryChoice).where(DeliveryChoice.member_id == member.id)
        ).all()
        == []
    )
    assert (
        db.session.scalars(select(QuietHours).where(QuietHours.member_id == member.id)).all() == []
    )
    [device] = db.session.scalars(
        select(PushSubscription).where(PushSubscription.member_id == member.id)
    )
    assert device.ended_at is not None and (device.device_label, device.service) == ("", "")
