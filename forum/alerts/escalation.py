"""Escalation: when too few members answer in time, remind those who have not, then coordinators.

Each step is a row unique per (alert, step), written in the same transaction as its
notifications: the step and its notifications commit together or not at all, so a step happens
once across restarts, and a second worker on PostgreSQL (or SQLite) finds the row taken.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum.alerts.core import add_timeline, recipient_ids, tell, topic
from forum.alerts.models import CLOSED, Alert, AlertAnswer, AlertEscalation
from forum.alerts.services import REMINDER_SUBJECT
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.members import services as members_services
from forum.notify import live
from forum.security import audit

if TYPE_CHECKING:
    from forum.members.models import Member

log = logging.getLogger(__name__)

ESCALATED_SUBJECT = _l("An urgent alert has too few answers — sign in to coordinate")


def _claim_step(alert: Alert, step: str) -> str | None:
    """Insert the step's row unless it exists; returns its id when this call took the step."""
    step_id = new_id()
    values = {
        "id": step_id,
        "alert_id": alert.id,
        "step": step,
        "notified": 0,
        "created_at": utcnow(),
    }
    dialect = db.session.get_bind().dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert_(AlertEscalation)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["alert_id", "step"])
        .returning(AlertEscalation.id)
    )
    return db.session.scalar(statement)


def _answer_count(alert: Alert) -> int:
    count = db.session.scalar(
        select(func.count())
        .select_from(AlertAnswer)
        .where(AlertAnswer.alert_id == alert.id, AlertAnswer.member_id != alert.raiser_id)
    )
    return int(count or 0)


def _non_answerers(alert: Alert) -> list[Member]:
    answered = db.session.scalars(
        select(AlertAnswer.member_id).where(AlertAnswer.alert_id == alert.id)
    )
    return members_services.active_members(
        recipient_ids(alert), exclude={*answered, alert.raiser_id}
    )


def escalate_alert(alert: Alert, now: datetime | None = None) -> list[str]:
    """Take whichever escalation steps are due for one alert; returns the steps taken."""
    settings = current_app.config["EXCHANGE"]["alerts"]
    now = now or utcnow()
    if alert.is_closed or _answer_count(alert) >= settings["escalation_min_answers"]:
        return []
    age = now - alert.created_at
    taken: list[str] = []
    if age >= timedelta(minutes=settings["escalation_after_minutes"]):
        step_id = _claim_step(alert, "renotify")
        if step_id is not None:
            members = _non_answerers(alert)
            tell(
                alert,
                members,
                event="reminder",
                kind="alert.reminder",
                text=_l("Still waiting for your answer: %(title)s", title=alert.title),
                subject=REMINDER_SUBJECT,
                body=_l(
                    "An urgent alert is still waiting for your answer. Sign in to read "
                    "it and answer with one tap:\n"
                ),
                urgent=True,
                push_text=_l("An urgent alert is waiting for your answer"),
            )
            _record(alert, step_id, "renotify", len(members))
            taken.append("renotify")
    if age >= timedelta(minutes=settings["coordinator_escalation_after_minutes"]):
        step_id = _claim_step(alert, "coordinators")
        if step_id is not None:
            members = members_services.coordinators()
            tell(
                alert,
                members,
                event="coordinators",
                kind="alert.escalated",
                text=_l("Too few answers to an urgent alert: %(title)s", title=alert.title),
                subject=ESCALATED_SUBJECT,
                body=_l("An urgent alert has too few answers. Sign in to coordinate:\n"),
                urgent=True,
            )
            _record(alert, step_id, "coordinators", len(members))
            taken.append("coordinators")
    return taken


def _record(alert: Alert, step_id: str, step: str, count: int) -> None:
    row = db.session.get(AlertEscalation, step_id)
    if row is not None:
        row.notified = count
    add_timeline(alert, None, "escalated", text=f"Escalation: {step} ({count} notified)")
    live.publish(topic(alert.id))
    audit.record("alert.escalated", target_type="alert", target_id=alert.id, kind=step, count=count)
    db.session.flush()


def due_alerts(now: datetime | None = None) -> list[str]:
    """Ids of unresolved alerts old enough that an escalation step may be due."""
    settings = current_app.config["EXCHANGE"]["alerts"]
    now = now or utcnow()
    first = min(
        settings["escalation_after_minutes"], settings["coordinator_escalation_after_minutes"]
    )
    done = (
        select(AlertEscalation.alert_id)
        .where(AlertEscalation.step == "coordinators")
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            select(Alert.id).where(
                Alert.status.not_in(CLOSED),
                Alert.created_at <= now - timedelta(minutes=first),
                Alert.created_at >= now - timedelta(days=7),
                Alert.id.not_in(done),
            )
        )
    )
