"""Coordinating an alert: its thread, its emergency call, resolving with a review, the register.

The thread and the call belong to their features and are made through their services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select

from forum.alerts import policy
from forum.alerts.core import (
    NOT_YOURS,
    AlertError,
    AlertNotFound,
    add_timeline,
    coordinated,
    get_alert,
    recipient_ids,
    topic,
)
from forum.alerts.models import REVIEW_PROMPTS, Alert, AlertAnswer, AlertReview
from forum.alerts.services import post_update
from forum.calls import services as calls_services
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.markup import tlp
from forum.members import services as members_services
from forum.notify import live
from forum.security import audit
from forum.threads import services as threads_services

if TYPE_CHECKING:
    from forum.calls.models import Occurrence
    from forum.members.models import Member
    from forum.threads.models import Thread

THREAD_LABELS = (tlp.AMBER, tlp.AMBER_STRICT, tlp.RED)


def open_thread(actor: Member, alert_id: str, label: str = tlp.AMBER) -> Thread:
    """Open the alert's coordination thread (once); TLP:RED makes the audience its participants."""
    alert = coordinated(actor, alert_id)
    if alert.thread_id:
        raise AlertError(_("This alert already has a coordination thread."))
    if label not in THREAD_LABELS:
        raise AlertError(_("Please choose a TLP label for the thread."))
    participants: list[Member] = []
    if label == tlp.RED:
        participants = members_services.active_members(recipient_ids(alert))
    # The thread is the actor's post: written in the actor's language, like anything she types.
    body = _(
        "Coordination of the urgent alert raised on %(date)s UTC.\n\n"
        "**What is needed:** %(needs)s\n\n"
        "The alert, its answers and timeline: %(link)s",
        date=alert.created_at.strftime("%d %b %Y %H:%M"),
        needs=alert.needs,
        link=alert.link,
    )
    thread = threads_services.start_thread(
        author=actor,
        category=None,
        title=_("Alert: %(title)s", title=alert.title),
        body=body,
        label=label,
        participants=participants,
        tags=("alert",),
        origin=f"alert:{alert.id}",
    )
    alert.thread_id = thread.id
    _now_coordinating(alert, actor, "thread", "Coordination thread opened")
    return thread


def start_call(
    actor: Member,
    alert_id: str,
    *,
    starts_at: datetime | None = None,
    duration_minutes: int = 60,
    joining_details: str = "",
) -> Occurrence:
    """Start the alert's one-click emergency call (once), by default in five minutes."""
    alert = coordinated(actor, alert_id)
    if alert.call_occurrence_id:
        raise AlertError(_("This alert already has an emergency call."))
    occurrence = calls_services.create_adhoc_call(
        organiser=actor,
        # The call's audience is the alert's; the title names no detail all the same.
        title=_("Emergency call on an urgent alert"),
        starts_at=starts_at or (utcnow() + timedelta(minutes=5)).replace(second=0, microsecond=0),
        duration_minutes=duration_minutes,
        joining_details=joining_details,
        description=_("Emergency call on the urgent alert at %(link)s", link=alert.link),
        origin=f"alert:{alert.id}",
        audience=call_audience(alert),
    )
    alert.call_occurrence_id = occurrence.id
    _now_coordinating(alert, actor, "call", "Emergency call started")
    return occurrence


def _now_coordinating(alert: Alert, actor: Member, event: str, text: str) -> None:
    """A thread or call was opened: an open alert is now being coordinated, on its timeline."""
    if alert.status == "open":
        alert.status = "coordinating"
    add_timeline(alert, actor, event, status=alert.status, text=text)
    live.publish(topic(alert.id))
    db.session.flush()


def call_audience(alert: Alert) -> list[Member]:
    """Who may read the alert, and so hear of its emergency call: audience, raiser, coordinators."""
    ids = {*recipient_ids(alert), alert.raiser_id}
    ids.update(db.session.scalars(members_services.coordinator_ids()))
    return [m for m in members_services.active_members(ids) if policy.can_read(m, alert)]


def resolve(actor: Member, alert_id: str, note: str = "") -> Alert:
    """Resolve the alert; the raiser or a coordinator is then asked for the after-action review."""
    alert = coordinated(actor, alert_id)
    if alert.is_closed:
        raise AlertError(_("This alert is already %(status)s.", status=alert.status_label.lower()))
    post_update(actor, alert.id, note or "Resolved.", status="resolved")
    return alert


def save_review(actor: Member, alert_id: str, answers: dict[str, str]) -> AlertReview:
    """Write (or revise) the after-action review of a resolved alert, sealed, in its timeline."""
    alert = reviewable(actor, alert_id)
    if alert.status != "resolved":
        raise AlertError(_("The review is written once the alert is resolved."))
    if not any(answers.get(p, "").strip() for p in REVIEW_PROMPTS):
        raise AlertError(_("Please answer at least one of the review questions."))
    now = utcnow()
    review = db.session.scalar(select(AlertReview).where(AlertReview.alert_id == alert.id))
    is_new = review is None
    if review is None:
        review = AlertReview(id=new_id(), alert_id=alert.id, created_at=now)
        db.session.add(review)
    review.author_id = actor.id
    review.updated_at = now
    for prompt in REVIEW_PROMPTS:
        review.seal(prompt, answers.get(prompt, "").strip(), key_id=alert.dek_id)
    add_timeline(
        alert,
        actor,
        "review",
        text="After-action review written" if is_new else "After-action review revised",
    )
    live.publish(topic(alert.id))
    audit.record("alert.reviewed", actor=actor, target_type="alert", target_id=alert.id)
    db.session.flush()
    return review


def reviewable(actor: Member, alert_id: str) -> Alert:
    """The alert, if the actor may resolve it and write its review; otherwise not found."""
    alert = get_alert(actor, alert_id)
    if not policy.can_resolve(actor, alert):
        raise AlertNotFound(NOT_YOURS)
    return alert


def review_answers(actor: Member, alert_id: str) -> tuple[Alert, dict[str, str] | None]:
    """The alert and its review's answers so far (None before the first), to edit the review."""
    alert = reviewable(actor, alert_id)
    existing = review_of(actor, alert)
    return alert, ({p: existing.answer(p) for p in REVIEW_PROMPTS} if existing else None)


def review_of(member: Member, alert: Alert) -> AlertReview | None:
    """The alert's review, for anyone who may read the alert."""
    if not policy.can_read(member, alert):
        raise AlertNotFound(NOT_YOURS)
    return db.session.scalar(select(AlertReview).where(AlertReview.alert_id == alert.id))


@dataclass(frozen=True)
class RegisterEntry:
    """One line of the alert register."""

    alert: Alert
    answers: int
    time_to_first_answer: timedelta | None
    has_review: bool


def register(viewer: Member, *, limit: int = 200) -> list[RegisterEntry]:
    """Every alert the viewer may read, newest first, with answers and time to first answer."""
    answers = (
        select(AlertAnswer.alert_id, func.count().label("n"))
        .group_by(AlertAnswer.alert_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Alert, func.coalesce(answers.c.n, 0), AlertReview.id)
        .outerjoin(answers, answers.c.alert_id == Alert.id)
        .outerjoin(AlertReview, AlertReview.alert_id == Alert.id)
        .where(policy.readable_filter(viewer))
        .order_by(Alert.created_at.desc())
        .limit(limit)
    ).all()
    return [
        RegisterEntry(
            alert=alert,
            answers=int(count),
            time_to_first_answer=(alert.first_answer_at - alert.created_at)
            if alert.first_answer_at
            else None,
            has_review=review_id is not None,
        )
        for alert, count, review_id in rows
    ]
