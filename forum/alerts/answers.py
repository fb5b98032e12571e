"""A member's one-tap answer to an alert. Services flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from forum.alerts import policy
from forum.alerts.core import NOT_YOURS, AlertError, AlertNotFound, get_alert, recipient_ids, topic
from forum.alerts.models import ANSWERS, CLOSED, Alert, AlertAnswer
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
        raise AlertError(_("Please choose one of the answers."), field="answer")
    _answerable(member, alert)
    return _record(member, alert, answer, note.strip())


def _answerable(member: Member, alert: Alert) -> None:
    """AlertError unless the member may answer the alert now."""
    if not policy.can_answer(member, alert):
        if member.id == alert.raiser_id and not alert.is_closed:
            raise AlertError(_("You raised this alert: the network's answers come to you."))
        raise AlertError(
            _("This alert is %(status)s; answers are closed.", status=alert.status_label.lower())
        )


def _upgrades(standing: str, answer: str) -> bool:
    """What a notification's tap may replace: only "Seen" by "I can help"."""
    return standing == "seen" and answer == "can_help"


def _record(
    member: Member, alert: Alert, answer: str, note: str, *, from_device: bool = False
) -> AlertAnswer:
    """Write the answer. Two taps at once (a phone's "Seen", a laptop's "I can help", or a
    retry) may both find no answer and both insert one: the second's insert is undone in its
    savepoint, and it is applied to the row the first wrote, by the same rules. From a
    device, an answer found standing is only ever upgraded (its note kept)."""
    now = utcnow()
    tapped = from_device
    row = my_answer(member, alert)
    if row is None:
        row = AlertAnswer(
            id=new_id(),
            alert_id=alert.id,
            member_id=member.id,
            created_at=now,
            answer=answer,
            updated_at=now,
        )
        row.seal("note", note, key_id=alert.dek_id)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # uq_alert_answers_member: the other tap's row is committed
            row = my_answer(member, alert)
            if row is None:
                raise
        else:
            from_device = False  # this answer is the first: nothing stands to keep
    if from_device:
        if not _upgrades(row.answer, answer):
            return row
        note = row.open("note") or ""
    row.answer = answer
    row.updated_at = now
    row.seal("note", note, key_id=alert.dek_id)
    if alert.first_answer_at is None and member.id != alert.raiser_id:
        alert.first_answer_at = now
    # Answering settles the banner on every page of this member. From the page, the notice
    # was seen in the app; a tap on the phone only settles the banner, so the board does not
    # say "seen in the app" of a member who never opened it.
    settled = {"is_urgent": False} if tapped else {"read_at": now}
    db.session.execute(
        update(Notification)
        .where(
            Notification.member_id == member.id,
            Notification.link == alert.link,
            Notification.read_at.is_(None),
        )
        .values(**settled)
    )
    db.session.flush()
    live.publish(topic(alert.id))
    return row


# What a notification's action may say, and what it may replace: a tap on an old notification
# never overwrites a fuller answer given on the page (nor erases its note).
DEVICE_ANSWERS = ("seen", "can_help")


def answer_from_device(
    member: Member, alert_id: str, answer: str, *, tapped_at: datetime | None = None
) -> AlertAnswer | None:
    """A tap on the notification's "Seen" or "I can help" (the device's answer credential).

    Only for alerts whose audience the member is in (a coordinator's wider reading does not
    reach a phone; anything else is the same 'not found'), and only an upgrade: it records a
    first answer, or "I can help" over "Seen". A tap that waited for a connection
    (`tapped_at`, when it was made) never replaces an answer given after it. Returns the answer
    now standing (None: none)."""
    alert = get_alert(member, alert_id)
    if answer not in DEVICE_ANSWERS:
        raise AlertError(_("Please choose Seen or I can help."), field="answer")
    if member.id not in recipient_ids(alert):
        raise AlertNotFound(NOT_YOURS)
    standing = my_answer(member, alert)
    later = standing is not None and tapped_at is not None and standing.updated_at > tapped_at
    if standing is not None and (later or not _upgrades(standing.answer, answer)):
        if alert.is_closed:  # said as for any answer to a closed alert
            raise AlertError(
                _(
                    "This alert is %(status)s; answers are closed.",
                    status=alert.status_label.lower(),
                )
            )
        return standing
    _answerable(member, alert)
    return _record(member, alert, answer, "", from_device=True)


def my_answer(member: Member, alert: Alert) -> AlertAnswer | None:
    """The member's current answer to the alert, if any."""
    return db.session.scalar(
        select(AlertAnswer).where(
            AlertAnswer.alert_id == alert.id, AlertAnswer.member_id == member.id
        )
    )


@dataclass(frozen=True)
class OpenAlert:
    """An open alert the member may read, with the member's own answer (None: not yet)."""

    alert: Alert
    answer: AlertAnswer | None
    is_raiser: bool


def open_alerts_for(member: Member, *, limit: int = 20) -> list[OpenAlert]:
    """The open alerts the member may read, newest first, each with the member's own answer."""
    if not member.is_active_member:
        return []
    alerts = list(
        db.session.scalars(
            select(Alert)
            .where(policy.readable_filter(member), Alert.status.not_in(CLOSED))
            .order_by(Alert.created_at.desc())
            .limit(limit)
        )
    )
    if not alerts:
        return []
    answers = {
        row.alert_id: row
        for row in db.session.scalars(
            select(AlertAnswer).where(
                AlertAnswer.member_id == member.id,
                AlertAnswer.alert_id.in_([a.id for a in alerts]),
            )
        )
    }
    return [
        OpenAlert(alert=a, answer=answers.get(a.id), is_raiser=a.raiser_id == member.id)
        for a in alerts
    ]
