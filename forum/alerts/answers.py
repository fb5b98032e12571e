"""A member's one-tap answer to an alert. Services flush, never commit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

from forum.alerts import policy
from forum.alerts.core import AlertError, get_alert, topic
from forum.alerts.models import ANSWERS, Alert, AlertAnswer
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.notify import live
from forum.notify.models import Notification

if TYPE_CHECKING:
    from forum.members.models import Member


def answer_alert(member: Member, alert_id: str, answer: str, note: str = "") -> AlertAnswer:
    """Record (or change) the member's one-tap answer, with an optional sealed note."""
    alert = get_alert(member, alert_id)
    if answer not in ANSWERS:
        raise AlertError("Please choose one of the answers.", field="answer")
    if not policy.can_answer(member, alert):
        if member.id == alert.raiser_id and not alert.is_closed:
            raise AlertError("You raised this alert: the network's answers come to you.")
        raise AlertError(f"This alert is {alert.status_label.lower()}; answers are closed.")
    now = utcnow()
    row = my_answer(member, alert)
    if row is None:
        row = AlertAnswer(id=new_id(), alert_id=alert.id, member_id=member.id, created_at=now)
        db.session.add(row)
    row.answer = answer
    row.updated_at = now
    row.seal("note", note.strip(), key_id=alert.dek_id)
    if alert.first_answer_at is None and member.id != alert.raiser_id:
        alert.first_answer_at = now
    # Answering settles the banner on every page of this member.
    db.session.execute(
        update(Notification)
        .where(
            Notification.member_id == member.id,
            Notification.link == alert.link,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
    )
    db.session.flush()
    live.publish(topic(alert.id))
    return row


def my_answer(member: Member, alert: Alert) -> AlertAnswer | None:
    """The member's current answer to the alert, if any."""
    return db.session.scalar(
        select(AlertAnswer).where(
            AlertAnswer.alert_id == alert.id, AlertAnswer.member_id == member.id
        )
    )
