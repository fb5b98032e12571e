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
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import insert

from forum.alerts import banners, policy
from forum.alerts.answers import (
    DEVICE_ANSWERS,
    OpenAlert,
    answer_alert,
    answer_from_device,
    my_answer,
    open_alerts_for,
)
from forum.alerts.audience import REGIONS, resolve_audience
from forum.alerts.board import Board, BoardRow, board
from forum.alerts.core import (
    NOT_YOURS,
    AlertError,
    AlertNotFound,
    add_timeline,
    answerers,
    codes,
    coordinated,
    get_alert,
    tell,
    then,
    timeline,
    topic,
)
from forum.alerts.models import (
    CLOSED,
    KINDS,
    LABELS,
    SEVERITIES,
    STATUSES,
    Alert,
    AlertRecipient,
    AlertUpdate,
)
from forum.countries import country_name
from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import LazyText
from forum.lazytext import lazy_gettext as _l
from forum.notify import live
from forum.notify.outbox import Written, notify
from forum.notify.webhooks import enqueue_webhooks
from forum.security import audit, limits

if TYPE_CHECKING:
    from forum.crypto.models import DataKey
    from forum.members.models import Member

__all__ = [
    "AlertError",
    "AlertNotFound",
    "Board",
    "BoardRow",
    "OpenAlert",
    "Posted",
    "add_recipients",
    "DEVICE_ANSWERS",
    "answer_alert",
    "answer_from_device",
    "board",
    "coordinated",
    "fan_out",
    "get_alert",
    "my_answer",
    "open_alerts_for",
    "post_update",
    "raise_alert",
    "timeline",
    "topic",
]

log = logging.getLogger(__name__)

# What is sent is lazy: each member gets it in their own language (forum.notify.outbox).
EMAIL_SUBJECT = _l("Urgent alert raised by the network — sign in to read it")
EMAIL_BODY = _l(
    "An urgent alert has been raised in the INVICTM Exchange.\n\n"
    "For confidentiality, this message does not say what it is about. Sign in to read it and "
    "answer with one tap:\n"
)
REMINDER_SUBJECT = _l("Reminder: an urgent alert is waiting for your answer — sign in to read it")
UPDATE_SUBJECT = _l("An alert you answered has an update — sign in to read it")


class TooManyAlerts(AlertError):
    """The raiser has used up the hourly allowance of alerts (shown at the title)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="title")


def _place(city: str, country: str) -> str:
    return ", ".join(p for p in (city, country_name(country)) if p)


def _notification_text(alert: Alert) -> Text:
    # The country by its name in each member's language ("Brussels, Belgique"), not its code.
    place = LazyText(_place, alert.city, alert.country)
    return _l(
        "Urgent alert (%(severity)s): %(title)s — %(place)s",
        severity=SEVERITIES.get(alert.severity, alert.severity),
        title=alert.title,
        place=place,
    )


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
        raise AlertNotFound(_("Only active members can raise alerts."))
    if kind not in KINDS or severity not in SEVERITIES:
        raise AlertError(_("Please choose the kind of alert and its severity."), field="title")
    if not title.strip():
        raise AlertError(_("Please give the alert a short title."), field="title")
    if any(region not in REGIONS for region in regions):
        raise AlertError(_("Please choose regions from the list."), field="title")
    if label not in LABELS:
        raise AlertError(_("Please choose a TLP label from the list."), field="title")
    place = codes([country], field="title")
    if not place:
        raise AlertError(_("Choose the country from the list."), field="title")
    nationality_codes = codes(nationalities, field="title")
    audience_codes = codes(countries, field="title")
    limits.check(
        "alerts_per_hour",
        raiser,
        author=Alert.raiser_id,
        created=Alert.created_at,
        error=TooManyAlerts,
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
    add_timeline(alert, raiser, "raised", status="open")
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
        insert(AlertRecipient.__table__),  # Core executemany: no ORM bookkeeping per row
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
        email_body=then(EMAIL_BODY, link),
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
        raise AlertNotFound(NOT_YOURS)
    if status is not None and (status not in STATUSES or status == "cancelled"):
        raise AlertError(_("Please choose a status from the list."), field="text")
    if alert.is_closed:
        closed = _(
            "This alert is %(status)s; it takes no more updates.",
            status=alert.status_label.lower(),
        )
        raise AlertError(closed, field="text")
    if not text.strip() and (status is None or status == alert.status):
        raise AlertError(_("Please write the update."), field="text")
    if status is not None and status != alert.status:
        alert.status = status
        alert.resolved_at = utcnow() if status in CLOSED else None
        event = "status" if event == "update" else event
        if status in CLOSED:
            banners.settle_closed(alert)
    else:
        status = None
    row = add_timeline(alert, author, event, status=status, text=text.strip())
    db.session.flush()
    recipients = [m for m in answerers(alert) if m.id != author.id]
    summary = (
        _l(
            "Update on alert: %(title)s — now %(status)s",
            title=alert.title,
            status=STATUSES[status],
        )
        if status
        else _l("Update on alert: %(title)s", title=alert.title)
    )
    tell(
        alert,
        recipients,
        event=f"update:{row.id}",
        kind="alert.update",
        text=summary,
        subject=UPDATE_SUBJECT,
        body=_l("An alert you answered has an update. Sign in to read it:\n"),
        push_text=_l("An alert you answered has an update — open the Exchange"),
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
