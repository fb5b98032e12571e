"""Reminders: sent once even across restarts; too late after downtime: skipped and logged."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select

from forum.calls import occurrences, reminders, services
from forum.calls.models import CallResponse, Occurrence, Reminder
from forum.extensions import db
from forum.members.models import Member
from forum.notify import dispatcher
from forum.notify.models import Notification, OutboxMessage
from forum.notify.outbox import notification_text
from tests.support.calls import NOW, monthly_fields


def first_occurrence(series) -> Occurrence:
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_due_reminder_is_sent_once_even_when_the_sweep_runs_again(monthly, members):
    members.make(name="Second member")
    occurrence = first_occurrence(monthly)
    occurrence_id = occurrence.id
    week = reminders.sweep(now=occurrence.starts_at - timedelta(days=7))
    db.session.commit()
    at = occurrence.starts_at - timedelta(minutes=59)
    first = reminders.sweep(now=at)
    db.session.commit()
    # A restart: a fresh session, the same database, the sweep runs again.
    db.session.remove()
    second = reminders.sweep(now=at + timedelta(minutes=1))
    db.session.commit()
    assert len(week.sent) == 1 and len(first.sent) == 1
    assert first.skipped == [] and second.sent == [] and second.skipped == []
    keys = db.session.scalars(select(Notification.event_key)).all()
    one_hour = [k for k in keys if k == f"call-reminder:{occurrence_id}:60"]
    assert len(one_hour) == 2  # one per member, once
    assert count(OutboxMessage, OutboxMessage.kind == "call_reminder") == 4


def test_a_reminder_missed_beyond_the_grace_period_is_skipped_and_logged(monthly, caplog):
    occurrence = first_occurrence(monthly)
    week_before = occurrence.starts_at - timedelta(days=7)
    # The scheduler was down for 2 hours after the 7-day reminder was due (grace: 60 minutes).
    with caplog.at_level(logging.WARNING, logger="forum.calls.reminders"):
        result = reminders.sweep(now=week_before + timedelta(hours=2))
    db.session.commit()
    assert len(result.skipped) == 1 and result.sent == []
    row = db.session.get(Reminder, result.skipped[0])
    assert row.status == "skipped" and row.offset_minutes == 7 * 24 * 60
    assert count(Notification) == 0
    logged = caplog.text
    assert row.id in logged and occurrence.id in logged
    assert "INVICTM" not in logged and "483920" not in logged


def test_a_reminder_missed_within_the_grace_period_is_sent_late(monthly):
    occurrence = first_occurrence(monthly)
    result = reminders.sweep(now=occurrence.starts_at - timedelta(days=7) + timedelta(minutes=45))
    db.session.commit()
    assert len(result.sent) == 1 and result.skipped == []


def test_no_reminder_for_a_cancelled_call_or_for_members_who_said_no(monthly, members):
    declining = members.make()
    occurrence = first_occurrence(monthly)
    db.session.add(
        CallResponse(occurrence_id=occurrence.id, member_id=declining.id, answer="not_attending")
    )
    reminders.sweep(now=occurrence.starts_at - timedelta(days=7))
    db.session.commit()
    told = set(db.session.scalars(select(Notification.member_id)))
    assert declining.id not in told and monthly.created_by_id in told
    actor = db.session.get(Member, monthly.created_by_id)
    occurrences.cancel_occurrence(occurrence, actor=actor)
    db.session.commit()
    before = count(Notification, Notification.kind == "call_reminder")
    result = reminders.sweep(now=occurrence.starts_at - timedelta(minutes=60))
    assert len(result.skipped) == 1
    assert count(Notification, Notification.kind == "call_reminder") == before


def test_reminder_email_is_content_free_over_real_smtp(monthly, members, mailbox):
    reader = members.make(email="reader@example.org")
    occurrence = first_occurrence(monthly)
    reminders.sweep(now=occurrence.starts_at - timedelta(minutes=60))
    db.session.commit()
    result = dispatcher.dispatch_due()
    assert result.sent >= 2
    received = mailbox.to("reader@example.org")
    assert len(received) == 1
    message = received[0]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert message["Subject"] == "Reminder: the monthly call starts in 1 hour"
    assert f"/calls/occurrences/{occurrence.id}" in body
    for secret in ("483920", "+32 2 555", "meet.example.org", "INVICTM monthly", "identification"):
        assert secret not in body and secret not in str(message["Subject"])
    inapp = db.session.scalars(
        select(Notification).where(Notification.member_id == reader.id)
    ).one()
    assert notification_text(inapp) == "Reminder: INVICTM monthly call starts in 1 hour."


def test_joining_details_go_by_email_only_when_the_series_allows_it(members, mailbox):
    coordinator = members.coordinator(email="coord@example.org")
    series = services.create_series(
        actor=coordinator, fields=monthly_fields(is_email_joining_allowed=True), now=NOW
    )
    db.session.commit()
    occurrence = first_occurrence(series)
    reminders.sweep(now=occurrence.starts_at - timedelta(minutes=60))
    db.session.commit()
    # Waiting in the outbox, the joining details are sealed: no column holds them in the clear.
    for row in db.session.scalars(select(OutboxMessage)):
        assert "483920" not in row.body and "meet.example.org" not in row.body
        assert row.body_sealed is not None and b"483920" not in row.body_sealed
    dispatcher.dispatch_due()
    body = mailbox.to("coord@example.org")[0].get_body(preferencelist=("plain",)).get_content()
    assert "483920" in body


def test_moving_a_call_re_times_its_pending_reminders(monthly):
    occurrence = first_occurrence(monthly)
    actor = db.session.get(Member, monthly.created_by_id)
    later = occurrence.starts_at + timedelta(days=1)
    occurrences.move_occurrence(occurrence, actor=actor, starts_at=later)
    db.session.commit()
    assert (
        reminders.sweep(now=occurrence.starts_at - timedelta(days=7) - timedelta(hours=1)).sent
        == []
    )
    assert len(reminders.sweep(now=later - timedelta(days=7)).sent) == 1


def test_offsets_read_in_words():
    assert reminders.describe_offset(10080) == "7 days"
    assert reminders.describe_offset(60) == "1 hour"
    assert reminders.describe_offset(90) == "90 minutes"


def test_changing_the_series_reminders_applies_to_every_upcoming_call(monthly):
    actor = db.session.get(Member, monthly.created_by_id)
    moved = first_occurrence(monthly)
    occurrences.move_occurrence(moved, actor=actor, starts_at=moved.starts_at + timedelta(hours=2))
    services.update_series(
        monthly, actor=actor, fields=monthly_fields(reminder_offsets=(24 * 60,)), now=NOW
    )
    db.session.commit()
    offsets = set(db.session.scalars(select(Reminder.offset_minutes)))
    assert offsets == {24 * 60}
    due = db.session.scalar(select(Reminder.due_at).where(Reminder.occurrence_id == moved.id))
    assert due == moved.starts_at - timedelta(days=1)
