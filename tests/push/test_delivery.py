"""Web Push as a push service sees it: VAPID-signed, aes128gcm-encrypted, content-free messages,
one per device, with the urgency the event deserves; gone devices end, outages are retried."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from forum.extensions import db
from forum.notify import subscriptions
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import OutboxMessage, PushSubscription
from tests.support.alerts import CANARY, raise_alert

# "actions" and "said": the titles of the two answers and what the phone says after a tap.
PAYLOAD_KEYS = {
    "v",
    "title",
    "body",
    "url",
    "tag",
    "kind",
    "urgent",
    "answerable",
    "actions",
    "said",
}


def _drain(limit_seconds: float = 30.0) -> None:
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        result = dispatch_due()
        db.session.commit()
        if result.claimed == 0:
            return
    raise AssertionError("the outbox did not drain in time")


def _push_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "push")))


def test_an_urgent_alert_reaches_every_device_once_saying_only_that_something_happened(
    app, members, push_service, add_device
):
    raiser = members.make()
    anna, ben = members.make(), members.make()
    anna_phone, _ = add_device(anna)
    anna_laptop, _ = add_device(anna)
    ben_phone, _ = add_device(ben)

    alert = raise_alert(raiser)
    _drain()

    for device in (anna_phone, anna_laptop, ben_phone):
        [message] = push_service.messages_for(device)
        assert set(message.payload) == PAYLOAD_KEYS
        assert message.payload["body"] == "Urgent alert — open the Exchange"
        assert message.payload["url"] == f"/alerts/{alert.id}"
        assert message.payload["kind"] == "alert.raised"
        assert message.payload["urgent"] is True and message.payload["answerable"] is True
        assert message.headers["urgency"] == "high"
        assert message.headers["ttl"] == str(app.config["EXCHANGE"]["push"]["urgent_ttl_seconds"])
        assert message.headers["topic"] and len(message.headers["topic"]) <= 32
        everything = message.plaintext.decode() + repr(message.headers) + message.path
        assert CANARY not in everything and "Brussels" not in everything
    assert push_service.refused == []
    assert {row.status for row in _push_rows()} == {"sent"}
    delivered = db.session.scalars(select(PushSubscription.last_delivery_at))
    assert all(at is not None for at in delivered)


def test_a_device_the_push_service_calls_gone_is_ended_and_its_member_mailed_next_time(
    app, members, push_service, add_device, mailbox
):
    raiser = members.make()
    carla = members.make()
    phone, credential = add_device(carla)
    push_service.answers[phone.path] = 410

    raise_alert(raiser)
    _drain()

    [row] = _push_rows()
    assert row.status == "cancelled"
    subscription = db.session.scalar(select(PushSubscription))
    assert subscription.ended_at is not None and subscription.end_reason == "gone"
    assert subscriptions.credential_owner(credential) is None

    mailbox.clear()
    raise_alert(raiser, title="Second alert")
    _drain()
    assert len(_push_rows()) == 1  # no row for the ended device
    assert carla.email in {str(m["To"]) for m in mailbox.messages}  # urgent: e-mail instead


def test_a_push_service_outage_is_retried_with_backoff_and_each_device_gets_one_message(
    app, members, push_service, add_device
):
    app.config["EXCHANGE"]["delivery"]["retry_base_seconds"] = 0.2
    app.config["EXCHANGE"]["delivery"]["max_attempts"] = 20
    raiser = members.make()
    devices = [add_device(members.make())[0] for _ in range(5)]
    push_service.status_for_all = 503

    raise_alert(raiser)
    result = dispatch_due()
    db.session.commit()
    assert result.retrying == 5  # the e-mails went; every push waits for its next try
    assert push_service.received == []
    assert {row.status for row in _push_rows()} == {"pending"}
    push_service.status_for_all = None

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(r.status == "pending" for r in _push_rows()):
        dispatch_due()
        db.session.commit()
        time.sleep(0.1)
    assert {row.status for row in _push_rows()} == {"sent"}
    assert all(len(push_service.messages_for(device)) == 1 for device in devices)
    assert all(row.attempts >= 2 for row in _push_rows())


def test_a_refusal_that_cannot_succeed_later_fails_at_once(app, members, push_service, add_device):
    raiser = members.make()
    phone, _ = add_device(members.make())
    push_service.answers[phone.path] = 413  # payload too large: retrying cannot help

    raise_alert(raiser)
    result = dispatch_due()
    db.session.commit()
    assert result.failed == 1
    [row] = _push_rows()
    assert row.status == "failed" and row.last_error == "push service answered HTTP 413"


def test_a_thread_or_call_message_goes_with_normal_urgency_and_a_long_ttl(
    app, members, push_service, add_device
):
    from forum.crypto import envelope
    from forum.notify.outbox import notify

    member = members.make()
    phone, _ = add_device(member)
    notify(
        [member],
        event_key="mention:test",
        kind="thread_mention",
        text=f"{CANARY} mentioned you",
        key=envelope.new_data_key("thread"),
        link="/threads/abc",
        email_subject="You were mentioned",
    )
    db.session.commit()
    _drain()
    [message] = push_service.messages_for(phone)
    assert message.headers["urgency"] == "normal"
    assert message.headers["ttl"] == str(app.config["EXCHANGE"]["push"]["normal_ttl_seconds"])
    assert message.payload["body"] == "You were mentioned"
    assert message.payload["answerable"] is False
    assert CANARY not in message.plaintext.decode()


def test_a_member_who_chose_email_only_gets_no_push_and_one_who_chose_push_only_no_email(
    app, members, push_service, add_device, mailbox
):
    from forum.notify import preferences

    raiser = members.make()
    mail_only, push_only = members.make(), members.make()
    mail_phone, _ = add_device(mail_only)
    push_phone, _ = add_device(push_only)
    preferences.save_choices(mail_only, {"urgent_alerts": "email"})
    preferences.save_choices(push_only, {"urgent_alerts": "push"})
    db.session.commit()

    raise_alert(raiser)
    _drain()
    assert push_service.messages_for(mail_phone) == []
    assert len(push_service.messages_for(push_phone)) == 1
    mailed = {str(m["To"]) for m in mailbox.messages}
    assert mail_only.email in mailed and push_only.email not in mailed


def test_push_rows_are_written_in_the_alerts_transaction(app, members, push_service, add_device):
    raiser = members.make()
    add_device(members.make())
    raise_alert(raiser, commit=False)
    db.session.rollback()  # the alert was not raised after all
    count = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert count == 0


def test_escalation_pushes_again_to_who_has_not_answered_before_it_calls_coordinators(
    app, members, push_service, add_device
):
    from datetime import timedelta

    from forum.alerts import services
    from forum.alerts.jobs import run_escalations

    raiser = members.make()
    answered, silent = members.make(), members.make()
    coordinator = members.coordinator()
    answered_phone, _ = add_device(answered)
    silent_phone, _ = add_device(silent)
    coordinator_phone, _ = add_device(coordinator)
    alert = raise_alert(raiser)
    _drain()
    services.answer_alert(answered, alert.id, "can_help")
    db.session.commit()

    alert.created_at -= timedelta(minutes=16)  # past escalation_after_minutes, not yet 30
    db.session.commit()
    run_escalations()
    _drain()
    kinds = [m.payload["kind"] for m in push_service.messages_for(silent_phone)]
    assert kinds == ["alert.raised", "alert.reminder"]
    reminder = push_service.messages_for(silent_phone)[1].payload
    assert reminder["body"] == "An urgent alert is waiting for your answer"
    assert reminder["answerable"] is True and reminder["url"] == f"/alerts/{alert.id}"
    assert [m.payload["kind"] for m in push_service.messages_for(answered_phone)] == [
        "alert.raised"
    ]
    assert "alert.escalated" not in [
        m.payload["kind"] for m in push_service.messages_for(coordinator_phone)
    ]

    alert.created_at -= timedelta(minutes=15)  # now past coordinator_escalation_after_minutes
    db.session.commit()
    run_escalations()
    _drain()
    assert push_service.messages_for(coordinator_phone)[-1].payload["kind"] == "alert.escalated"
    assert push_service.messages_for(coordinator_phone)[-1].payload["answerable"] is False


def test_quiet_hours_hold_a_mention_until_they_end_but_not_an_urgent_alert(
    app, members, push_service, add_device
):
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from forum.crypto import envelope
    from forum.notify import preferences
    from forum.notify.outbox import notify

    member = members.make(timezone="Asia/Tokyo")
    phone, _ = add_device(member)
    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    start = (local - timedelta(hours=1)).replace(second=0, microsecond=0)
    end = (local + timedelta(hours=2)).replace(second=0, microsecond=0)
    preferences.save_quiet_hours(member, start.hour * 60 + start.minute, end.hour * 60 + end.minute)
    db.session.commit()

    notify(
        [member],
        event_key="mention:quiet",
        kind="thread_mention",
        text="mentioned",
        key=envelope.new_data_key("thread"),
        link="/threads/abc",
        email_subject="You were mentioned",
    )
    raise_alert(members.make())
    _drain()
    [message] = push_service.messages_for(phone)
    assert message.payload["kind"] == "alert.raised"  # urgent: through the quiet hours
    [held] = [row for row in _push_rows() if row.kind == "thread_mention"]
    assert held.status == "pending"
    assert abs(held.due_at - end.astimezone(UTC)) < timedelta(minutes=1)  # Tokyo's clock


def test_an_urgent_alert_no_device_takes_is_e_mailed_at_once_to_a_push_only_member(
    app, members, push_service, add_device, mailbox
):
    from forum.notify import preferences

    raiser = members.make()
    refused, gone, reached = members.make(), members.make(), members.make()
    refused_phone, _ = add_device(refused)
    gone_phone, _ = add_device(gone)
    add_device(reached)
    for member in (refused, gone, reached):
        preferences.save_choices(member, {"urgent_alerts": "push"})
    db.session.commit()
    push_service.answers[refused_phone.path] = 403  # Apple: BadJwtToken
    push_service.answers[gone_phone.path] = 410

    raise_alert(raiser)
    dispatch_due()  # one run: the e-mails no device took the push for go in the same run
    db.session.commit()
    mailed = {str(m["To"]) for m in mailbox.messages}
    assert refused.email in mailed and gone.email in mailed
    assert reached.email not in mailed  # her phone took it: the standby e-mail is cancelled
    db.session.expire_all()
    ended = {
        row.member_id: row.end_reason
        for row in db.session.scalars(
            select(PushSubscription).where(PushSubscription.ended_at.is_not(None))
        )
    }
    assert ended == {gone.id: "gone"}  # a 403 is a fault of our signature: the device stays
    refused_row = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.channel == "push", OutboxMessage.member_id == refused.id
        )
    )
    assert refused_row.status == "failed" and "403" in refused_row.last_error
    emails = {
        row.member_id: row.status
        for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email"))
    }
    assert emails == {refused.id: "sent", gone.id: "sent", reached.id: "cancelled"}


def test_a_push_service_outage_releases_the_urgent_e_mail_of_a_push_only_member(
    app, members, push_service, add_device, mailbox
):
    from forum.notify import preferences

    member = members.make()
    add_device(member)
    preferences.save_choices(member, {"urgent_alerts": "push"})
    db.session.commit()
    push_service.status_for_all = 503
    raise_alert(members.make())
    dispatch_due()
    db.session.commit()
    assert member.email in {str(m["To"]) for m in mailbox.messages}


def test_an_alert_update_is_pushed_as_an_update_and_not_held_by_quiet_hours(
    app, members, push_service, add_device
):
    from forum.alerts import services
    from forum.notify import preferences

    raiser, member = members.make(), members.make()
    phone, _ = add_device(member)
    preferences.save_quiet_hours(member, 0, 23 * 60 + 59)  # quiet all day long
    db.session.commit()
    alert = raise_alert(raiser)
    services.answer_alert(member, alert.id, "can_help")
    services.post_update(raiser, alert.id, text=f"Update with {CANARY}")
    db.session.commit()
    _drain()
    kinds = [(m.payload["kind"], m.payload["body"]) for m in push_service.messages_for(phone)]
    assert kinds == [
        ("alert.raised", "Urgent alert — open the Exchange"),
        ("alert.update", "An alert you answered has an update — open the Exchange"),
    ]


def test_a_standby_e__mail_whose_pushes_never_settle_goes_with_the_urgent_sweep(
    app, members, push_service, add_device, mailbox, monkeypatch
):
    from datetime import timedelta

    from forum.db import utcnow
    from forum.notify import preferences, pushes
    from forum.notify.dispatcher import dispatch_urgent

    member = members.make()
    add_device(member)
    preferences.save_choices(member, {"urgent_alerts": "push"})
    db.session.commit()

    def broken(*_args, **_kwargs):  # the push channel breaks before sending anything
        raise RuntimeError("broken")

    monkeypatch.setattr(pushes, "sender", broken)
    raise_alert(members.make())
    dispatch_due()  # the channel fails: the standby e-mail is released for the sweep
    db.session.commit()
    dispatch_urgent()
    db.session.commit()
    assert member.email in {str(m["To"]) for m in mailbox.messages}

    # And a standby row nobody settled (a push row that never reached the channel) goes too.
    mailbox.clear()
    other = members.make()
    add_device(other)
    preferences.save_choices(other, {"urgent_alerts": "push"})
    db.session.commit()
    raise_alert(members.make(), title="Second")
    db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.channel == "push"))
    db.session.execute(
        OutboxMessage.__table__.update()
        .where(OutboxMessage.status == "standby")
        .values(due_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    dispatch_urgent()
    db.session.commit()
    assert other.email in {str(m["To"]) for m in mailbox.messages}


def test_quiet_hours_never_deliver_a_call_notice_after_the_call_has_begun(
    app, members, push_service, add_device
):
    """A call set at 03:37 for 04:27 while she sleeps until 07:00: no e-mail or push saying
    "a new call" arrives at 07:00 for a call that is over; the bell keeps it (found by the
    review). A call after her quiet hours is still told, when they end."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from forum.calls import services as call_services
    from forum.notify import preferences
    from forum.notify.models import Notification

    organiser = members.coordinator()
    sleeper = members.make(timezone="Europe/Paris")
    awake = members.make(timezone="Europe/Paris")
    add_device(sleeper)
    add_device(awake)
    local = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris"))
    start = (local - timedelta(hours=1)).replace(second=0, microsecond=0)
    end = (local + timedelta(hours=3)).replace(second=0, microsecond=0)
    preferences.save_quiet_hours(
        sleeper, start.hour * 60 + start.minute, end.hour * 60 + end.minute
    )
    db.session.commit()

    soon = call_services.create_adhoc_call(
        organiser=organiser,
        title="Coordination call",
        starts_at=datetime.now(UTC) + timedelta(minutes=50),
        duration_minutes=60,
        joining_details="",
    )
    later = call_services.create_adhoc_call(
        organiser=organiser,
        title="Debrief",
        starts_at=datetime.now(UTC) + timedelta(hours=5),
        duration_minutes=60,
        joining_details="",
    )
    db.session.commit()

    def outbox(member, occurrence):
        link = f"/calls/occurrences/{occurrence.id}"
        return sorted(
            (row.channel, row.status)
            for row in db.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.member_id == member.id, OutboxMessage.link == link
                )
            )
        )

    assert outbox(sleeper, soon) == []  # held past its start: not sent at all
    assert outbox(awake, soon) == [("email", "pending"), ("push", "pending")]
    bell = db.session.scalars(
        select(Notification.link).where(Notification.member_id == sleeper.id)
    ).all()
    assert f"/calls/occurrences/{soon.id}" in bell  # the in-app notice stays
    held = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.member_id == sleeper.id,
            OutboxMessage.link == f"/calls/occurrences/{later.id}",
        )
    ).all()
    assert sorted(row.channel for row in held) == ["email", "push"]
    assert all(abs(row.due_at - end.astimezone(UTC)) < timedelta(minutes=1) for row in held)
