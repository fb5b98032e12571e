"""The calls jobs run by the scheduler runtime, across a restart of the application."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from forum.calls import services
from forum.calls.jobs import jobs
from forum.calls.models import Occurrence, Reminder
from forum.db import utcnow
from forum.extensions import db
from forum.notify.models import Notification
from forum.scheduling.runtime import run_job
from tests.support.calls import monthly_fields


def spec(job_id: str):
    return next(s for s in jobs() if s.id == job_id)


def test_calls_hand_the_scheduler_a_horizon_job_and_a_reminder_sweep():
    ids = {s.id: s for s in jobs()}
    assert set(ids) == {"calls.fill_horizon", "calls.send_due_reminders"}
    assert ids["calls.send_due_reminders"].trigger == "interval"


def test_a_due_reminder_is_sent_once_across_a_restart_of_the_app(app: Flask, members):
    coordinator = members.coordinator()
    members.make()
    # Starting ten days from now: the first call is at least a week away whatever the date, so
    # its 7-day reminder exists (a call less than a week away has none; the test failed in
    # the week before every second Thursday).
    series = services.create_series(
        actor=coordinator, fields=monthly_fields(starts_at=utcnow() + timedelta(days=10))
    )
    db.session.commit()
    occurrence = db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()
    occurrence_id = occurrence.id
    # The 7-day reminder of the first call fell due a minute ago.
    db.session.execute(
        update(Reminder)
        .where(Reminder.occurrence_id == occurrence.id, Reminder.offset_minutes == 7 * 24 * 60)
        .values(due_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    run_job(app, spec("calls.send_due_reminders"))
    # The process restarts: every connection and session is gone; the sweep runs again.
    db.session.remove()
    db.engine.dispose()
    run_job(app, spec("calls.send_due_reminders"))
    sent = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "call_reminder")
    )
    statuses = db.session.scalars(
        select(Reminder.status).where(Reminder.occurrence_id == occurrence_id)
    ).all()
    assert sent == 2  # one per member, once
    assert sorted(statuses) == ["pending", "sent"]


def test_the_horizon_job_fills_and_then_finds_nothing_to_do(app: Flask, members):
    coordinator = members.coordinator()
    series = services.create_series(actor=coordinator, fields=monthly_fields(starts_at=utcnow()))
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Occurrence))
    db.session.execute(update(type(series)).values(filled_until_at=None))
    db.session.commit()
    run_job(app, spec("calls.fill_horizon"))
    run_job(app, spec("calls.fill_horizon"))
    assert db.session.scalar(select(func.count()).select_from(Occurrence)) == before
