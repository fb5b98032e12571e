"""Escalation: reminders, then coordinators; each step once, across runs and workers."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from forum.alerts import services
from forum.alerts.jobs import run_escalations
from forum.alerts.models import AlertEscalation
from forum.extensions import db
from forum.notify.models import Notification, OutboxMessage


def _age(alert, minutes):
    alert.created_at = alert.created_at - timedelta(minutes=minutes)
    db.session.commit()


def _count(kind, member_id=None):
    query = select(func.count()).select_from(Notification).where(Notification.kind == kind)
    if member_id:
        query = query.where(Notification.member_id == member_id)
    return db.session.scalar(query)


def test_no_escalation_before_the_delay(members, raise_):
    raiser = members.make()
    members.make()
    raise_(raiser)
    assert run_escalations() == 0
    assert db.session.scalar(select(func.count()).select_from(AlertEscalation)) == 0


def test_non_answerers_are_reminded_once_even_when_the_job_runs_again(members, raise_):
    raiser = members.make()
    answered = members.make()
    waiting = [members.make() for _ in range(3)]
    alert = raise_(raiser)
    services.answer_alert(answered, alert.id, "seen")
    db.session.commit()
    _age(alert, 16)
    assert run_escalations() == 1
    assert run_escalations() == 0  # a restart runs the job again: nothing repeats
    db.session.expire_all()
    reminded = set(
        db.session.scalars(
            select(Notification.member_id).where(Notification.kind == "alert.reminder")
        )
    )
    assert reminded == {m.id for m in waiting}
    emails = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.kind == "alert.reminder")
    )
    assert emails == 3
    steps = db.session.scalars(select(AlertEscalation.step)).all()
    assert steps == ["renotify"]


def test_coordinators_are_told_after_the_longer_delay(members, raise_):
    raiser = members.make()
    coordinator = members.coordinator()
    members.make()
    alert = raise_(raiser)
    _age(alert, 31)
    assert run_escalations() == 2
    assert _count("alert.escalated", coordinator.id) == 1
    assert run_escalations() == 0
    assert _count("alert.escalated") == 1
    events = [u.event for u in services.timeline(coordinator, alert)]
    assert events.count("escalated") == 2


def test_enough_answers_stop_escalation(members, raise_, app):
    app.config["EXCHANGE"]["alerts"]["escalation_min_answers"] = 2
    raiser = members.make()
    a, b = members.make(), members.make()
    members.make()
    alert = raise_(raiser)
    services.answer_alert(a, alert.id, "can_help")
    services.answer_alert(b, alert.id, "not_available")
    db.session.commit()
    _age(alert, 40)
    assert run_escalations() == 0


def test_resolved_alerts_never_escalate(members, raise_):
    raiser = members.make()
    members.make()
    alert = raise_(raiser)
    services.post_update(raiser, alert.id, "False alarm", status="resolved")
    db.session.commit()
    _age(alert, 40)
    assert run_escalations() == 0


def test_two_workers_at_once_take_each_step_once(members, raise_, app):
    raiser = members.make()
    members.coordinator()
    waiting = [members.make() for _ in range(20)]
    alert = raise_(raiser)
    _age(alert, 45)
    waiting_ids = [m.id for m in waiting]
    db.session.remove()
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=10)

    def worker() -> None:
        try:
            with app.app_context():
                start.wait()
                results.append(run_escalations())
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sum(results) == 2  # renotify and coordinators, each by exactly one worker
    for member_id in waiting_ids:
        assert _count("alert.reminder", member_id) == 1
    assert _count("alert.escalated") == 1
    assert db.session.scalar(select(func.count()).select_from(AlertEscalation)) == 2
