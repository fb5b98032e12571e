"""Raising alerts, reaching the audience, answers and the timeline. Services flush, never commit.

Every function takes the acting member as an argument and checks access through
`forum.alerts.policy`; a member who may not read an alert gets AlertNotFound, exactly as for an
alert that does not exist.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from forum.alerts import banners, policy
from forum.alerts.audience import REGIONS, resolve_audience
from forum.alerts.models import (
    ANSWERS,
    CLOSED,
    KINDS,
    LABELS,
    SEVERITIES,
    STATUSES,
    Alert,
    AlertAnswer,
    AlertRecipient,
    AlertUpdate,
)
from forum.countries import is_country
from forum.crypto import envelope
from forum.crypto.models import DataKey
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.notify import live
from forum.notify.models import Notification
from forum.notify.outbox import Written, notify
from forum.notify.webhooks import enqueue_webhooks
from forum.security import audit, limits

log = logging.getLogger(__name__)

EMAIL_SUBJECT = "Urgent alert raised by the network — sign in to read it"
EMAIL_BODY = (
    "An urgent alert has been raised in the INVICTM Exchange.\n\n"
    "For confidentiality, this message does not say what it is about. Sign in to read it and "
    "answer with one tap:\n"
)
REMINDER_SUBJECT = "Reminder: an urgent alert is waiting for your answer — sign in to read it"
UPDATE_SUBJECT = "An alert you answered has an update — sign in to read it"


class AlertError(Exception):
    """A request about an alert that cannot be done, said in one plain sentence."""


class AlertNotFound(AlertError):
    """No such alert, or not one the member may see (the same answer for both)."""


def topic(alert_id: str) -> str:
    """The live topic pages watch to follow one alert."""
    return f"alert:{alert_id}"


def _codes(values: Sequence[str]) -> list[str]:
    """ISO 3166-1 alpha-2 codes, upper-cased, once each; anything else is refused."""
    codes: list[str] = []
    for value in values:
        code = value.strip().upper()
        if not code:
            continue
        if not is_country(code):
            raise AlertError("Choose the country from the list.")
        if code not in codes:
            codes.append(code)
    return codes


def get_alert(member: Member, alert_id: str) -> Alert:
    """The alert, if the member may read it; otherwise AlertNotFound."""
    alert = db.session.get(Alert, alert_id)
    if alert is None or not policy.can_read(member, alert):
        raise AlertNotFound("There is no such alert, or it is not yours to see.")
    return alert


def _notification_text(alert: Alert) -> str:
    place = ", ".join(p for p in (alert.city, alert.country) if p)
    return f"Urgent alert ({alert.severity_label}): {alert.title} — {place}"


def raise_alert(
    raiser: Member,
    *,
    kind: str,
    title: str,
    city: str,
    country: str,
    occurred_at: datetime,
    needs: str,
    severity: str,
    nationalities: Sequence[str] = (),
    regions: Sequence[str] = (),
    countries: Sequence[str] = (),
    expertise: Sequence[str] = (),
    label: str = "AMBER",
) -> Alert:
    """Raise an alert: seal it, freeze its audience, and write every notification and delivery.

    The raiser is in the audience (she reads and coordinates it) but is not asked to answer:
    no notification, no banner, no reminder, and the board shows her as the raiser."""
    if not policy.can_raise(raiser):
        raise AlertNotFound("Only active members can raise alerts.")
    if kind not in KINDS or severity not in SEVERITIES:
        raise AlertError("Please choose the kind of alert and its severity.")
    if not title.strip():
        raise AlertError("Please give the alert a short title.")
    if any(region not in REGIONS for region in regions):
        raise AlertError("Please choose regions from the list.")
    if label not in LABELS:
        raise AlertError("Please choose a TLP label from the list.")
    place = _codes([country])
    if not place:
        raise AlertError("Choose the country from the list.")
    nationality_codes = _codes(nationalities)
    audience_codes = _codes(countries)
    limits.check(
        "alerts_per_hour",
        raiser,
        author=Alert.raiser_id,
        created=Alert.created_at,
        error=AlertError,
    )
    key = envelope.new_data_key("alert")
    db.session.flush()  # the key row before the alert that points at it
    alert = Alert(
        id=new_id(),
        dek_id=key.id,
        raiser_id=raiser.id,
        kind=kind,
        severity=severity,
        status="open",
        label=label,
        country=place[0],
        nationalities=",".join(nationality_codes),
        audience_regions=",".join(regions),
        audience_countries=",".join(audience_codes),
        audience_expertise=",".join(e.strip() for e in expertise if e.strip()),
        occurred_at=occurred_at,
        created_at=utcnow(),
    )
    alert.seal("title", title.strip())
    alert.seal("city", city.strip())
    alert.seal("needs", needs.strip())
    db.session.add(alert)
    db.session.flush()

    audience = resolve_audience(
        regions=regions,
        countries=audience_codes,
        expertise=[e for e in expertise if e.strip()],
        nationalities=alert.nationality_codes,
    )
    members = [m for m in audience.members if m.id != raiser.id]
    add_recipients(alert, members, audience.contact_point_ids)
    db.session.execute(
        insert(AlertRecipient), [{"alert_id": alert.id, "member_id": raiser.id, "reason": "raiser"}]
    )
    _timeline(alert, raiser, "raised", status="open")
    fan_out(alert, key, members)
    live.publish(topic(alert.id))
    audit.record(
        "alert.raised",
        actor=raiser,
        target_type="alert",
        target_id=alert.id,
        kind=kind,
        count=len(members),
    )
    return alert


def add_recipients(alert: Alert, members: Sequence[Member], contact_point_ids: set[str]) -> None:
    """Freeze members into the alert's audience (the caller fans out to them)."""
    if not members:
        return
    db.session.execute(
        insert(AlertRecipient),
        [
            {
                "alert_id": alert.id,
                "member_id": m.id,
                "reason": "contact_point" if m.id in contact_point_ids else "audience",
            }
            for m in members
        ],
    )


def fan_out(alert: Alert, key: DataKey | str, members: Sequence[Member]) -> Written:
    """Write the alert's in-app rows, e-mail rows (one per member) and webhook rows, urgently."""
    link = alert.link
    written = notify(
        members,
        event_key=f"alert:{alert.id}:raised",
        kind="alert.raised",
        text=_notification_text(alert),
        key=key,
        link=link,
        email_subject=EMAIL_SUBJECT,
        email_body=EMAIL_BODY + link,
        urgent=True,
    )
    # Signed webhooks carry only what a receiving system needs to route the alert: its id,
    # kind and severity (in the subject) and the link — never the title or details.
    enqueue_webhooks(
        event_key=f"alert:{alert.id}:raised",
        kind="alert.raised",
        subject=f"Urgent alert {alert.id} kind={alert.kind} severity={alert.severity}",
        link=link,
        urgent=True,
    )
    return written


def answer_alert(member: Member, alert_id: str, answer: str, note: str = "") -> AlertAnswer:
    """Record (or change) the member's one-tap answer, with an optional sealed note."""
    alert = get_alert(member, alert_id)
    if answer not in ANSWERS:
        raise AlertError("Please choose one of the answers.")
    if not policy.can_answer(member, alert):
        if member.id == alert.raiser_id and not alert.is_closed:
            raise AlertError("You raised this alert: the network's answers come to you.")
        raise AlertError(f"This alert is {alert.status_label.lower()}; answers are closed.")
    now = utcnow()
    row = db.session.scalar(
        select(AlertAnswer).where(
            AlertAnswer.alert_id == alert.id, AlertAnswer.member_id == member.id
        )
    )
    if row is None:
        row = AlertAnswer(id=new_id(), alert_id=alert.id, member_id=member.id, created_at=now)
        db.session.add(row)
    row.answer = answer
    row.updated_at = now
    note = note.strip()
    row.note_sealed = (
        envelope.seal(alert.dek_id, envelope.context("alert_answer", row.id, "note"), note)
        if note
        else None
    )
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


def _timeline(
    alert: Alert, author: Member | None, event: str, *, status: str | None = None, text: str = ""
) -> AlertUpdate:
    row = AlertUpdate(
        id=new_id(),
        alert_id=alert.id,
        author_id=author.id if author else None,
        event=event,
        status=status,
        created_at=utcnow(),
    )
    if text:
        row.text_sealed = envelope.seal(
            alert.dek_id, envelope.context("alert_update", row.id, "text"), text
        )
    db.session.add(row)
    return row


def timeline(member: Member, alert: Alert) -> list[AlertUpdate]:
    """The alert's timeline, oldest first (for anyone who may read the alert)."""
    if not policy.can_read(member, alert):
        raise AlertNotFound("There is no such alert, or it is not yours to see.")
    return list(
        db.session.scalars(
            select(AlertUpdate)
            .where(AlertUpdate.alert_id == alert.id)
            .order_by(AlertUpdate.created_at)
        )
    )


def _answerers(alert: Alert) -> list[Member]:
    return list(
        db.session.scalars(
            select(Member)
            .join(AlertAnswer, AlertAnswer.member_id == Member.id)
            .where(AlertAnswer.alert_id == alert.id)
        )
    )


@dataclass(frozen=True)
class Posted:
    """What posting an update did: its timeline entry and how many members were told."""

    update: AlertUpdate
    status: str | None
    told: int


def post_update(
    author: Member, alert_id: str, text: str, status: str | None = None, *, event: str = "update"
) -> Posted:
    """Add a timeline entry (and maybe change the status); everyone who answered is notified."""
    alert = get_alert(author, alert_id)
    if not policy.can_coordinate(author, alert):
        raise AlertNotFound("There is no such alert, or it is not yours to see.")
    if status is not None and (status not in STATUSES or status == "cancelled"):
        raise AlertError("Please choose a status from the list.")
    if alert.is_closed:
        raise AlertError(f"This alert is {alert.status_label.lower()}; it takes no more updates.")
    if not text.strip() and (status is None or status == alert.status):
        raise AlertError("Please write the update.")
    if status is not None and status != alert.status:
        alert.status = status
        alert.resolved_at = utcnow() if status in CLOSED else None
        event = "status" if event == "update" else event
        if status in CLOSED:
            banners.settle_closed(alert)
    else:
        status = None
    row = _timeline(alert, author, event, status=status, text=text.strip())
    db.session.flush()
    recipients = [m for m in _answerers(alert) if m.id != author.id]
    summary = f"Update on alert: {alert.title}" + (f" — now {STATUSES[status]}" if status else "")
    notify(
        recipients,
        event_key=f"alert:{alert.id}:update:{row.id}",
        kind="alert.update",
        text=summary,
        key=alert.dek_id,
        link=alert.link,
        email_subject=UPDATE_SUBJECT,
        email_body="An alert you answered has an update. Sign in to read it:\n" + alert.link,
    )
    live.publish(topic(alert.id))
    audit.record(
        "alert.updated",
        actor=author,
        target_type="alert",
        target_id=alert.id,
        status=status or alert.status,
    )
    return Posted(row, status, len(recipients))


@dataclass(frozen=True)
class BoardRow:
    """One member on the response board."""

    member: Member
    answer: AlertAnswer | None


@dataclass(frozen=True)
class Board:
    """Who answered what, grouped by country, and who has not answered yet."""

    alert: Alert
    raiser: Member
    answered: list[BoardRow]
    waiting: list[BoardRow]
    counts: dict[str, int]
    by_country: dict[str, dict[str, int]]


def board(viewer: Member, alert_id: str) -> Board:
    """The live response board of an alert, for its raiser and the coordinators."""
    alert = get_alert(viewer, alert_id)
    if not policy.can_see_board(viewer, alert):
        raise AlertNotFound("There is no such alert, or it is not yours to see.")
    recipients = db.session.execute(
        select(Member, AlertAnswer)
        .join(AlertRecipient, AlertRecipient.member_id == Member.id)
        .outerjoin(
            AlertAnswer,
            (AlertAnswer.member_id == Member.id) & (AlertAnswer.alert_id == alert.id),
        )
        .where(AlertRecipient.alert_id == alert.id)
    ).all()
    # The raiser is shown as the raiser, never as someone who has not answered.
    others = [(m, a) for m, a in recipients if m.id != alert.raiser_id]
    answered = [BoardRow(m, a) for m, a in others if a is not None]
    answered.sort(key=lambda row: (row.member.country, row.answer.updated_at if row.answer else 0))
    waiting = [BoardRow(m, None) for m, a in others if a is None]
    waiting.sort(key=lambda row: row.member.country)
    counts = {key: 0 for key in ANSWERS}
    by_country: dict[str, dict[str, int]] = {}
    for row in answered:
        assert row.answer is not None
        counts[row.answer.answer] = counts.get(row.answer.answer, 0) + 1
        country = by_country.setdefault(row.member.country or "—", {k: 0 for k in ANSWERS})
        country[row.answer.answer] += 1
    return Board(alert, alert.raiser, answered, waiting, counts, dict(sorted(by_country.items())))
