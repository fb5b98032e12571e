"""Ad-hoc calls: the service the alerts feature calls during an attack response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from forum.calls import policy, services
from forum.calls.models import Occurrence, Reminder
from forum.db import utcnow
from forum.extensions import db
from forum.notify.models import Notification, OutboxMessage


def test_any_member_can_call_an_adhoc_call_and_every_member_is_told(members):
    organiser = members.make(name="Responder", timezone="America/New_York")
    other = members.make()
    starts = utcnow() + timedelta(hours=3)
    occurrence = services.create_adhoc_call(
        organiser=organiser,
        title="Emergency call: attack in Lyon",
        starts_at=starts,
        duration_minutes=45,
        joining_details="https://meet.example.org/emergency-42",
    )
    db.session.commit()
    assert occurrence.series.kind == "adhoc"
    assert occurrence.series.origin is None  # an alert's call: tests/security/test_calls_*
    assert occurrence.starts_at == starts.replace(microsecond=starts.microsecond)
    assert occurrence.ends_at - occurrence.starts_at == timedelta(minutes=45)
    assert occurrence.series.title == "Emergency call: attack in Lyon"
    assert occurrence.series.timezone == "America/New_York"
    told = db.session.scalars(select(Notification.member_id)).all()
    assert {organiser.id, other.id} <= set(told)
    mails = db.session.scalars(select(OutboxMessage)).all()
    assert mails and all("Lyon" not in m.subject + m.body for m in mails)
    assert all("emergency-42" not in m.body for m in mails)
    # The 1-hour reminder is planned; the 7-day one is already past and not planned.
    offsets = db.session.scalars(
        select(Reminder.offset_minutes).where(Reminder.occurrence_id == occurrence.id)
    ).all()
    assert offsets == [60]


def test_adhoc_call_needs_an_aware_start(members):
    organiser = members.make()
    with pytest.raises(services.CallError):
        services.create_adhoc_call(
            organiser=organiser,
            title="Call",
            starts_at=datetime(2027, 1, 1, 10, 0),
            duration_minutes=30,
        )


def test_suspended_member_cannot_call_an_adhoc_call(members):
    organiser = members.make()
    organiser.status = "suspended"
    with pytest.raises(policy.NotAllowed):
        services.create_adhoc_call(
            organiser=organiser,
            title="Call",
            starts_at=datetime(2027, 1, 1, 10, 0, tzinfo=UTC),
            duration_minutes=30,
        )
    assert db.session.scalars(select(Occurrence)).all() == []
