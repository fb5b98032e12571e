"""Correcting an alert and cancelling it as a false alarm. Services flush, never commit.

A correction changes what the alert says; the old and new values are kept on its timeline,
sealed under the alert's key like every other entry. Named nationalities that the correction
adds bring their contact points into the audience. Cancelling closes the alert as a false alarm
and tells its whole audience through the outbox with a notice that names nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from forum.alerts import banners
from forum.alerts.audience import resolve_audience
from forum.alerts.core import (
    AlertError,
    add_timeline,
    answerers,
    codes,
    coordinated,
    recipient_ids,
    tell,
    topic,
)
from forum.alerts.models import LABELS, SEVERITIES, Alert
from forum.alerts.services import add_recipients, fan_out
from forum.countries import country_name
from forum.db import utcnow
from forum.extensions import db
from forum.i18n import DEFAULT, in_language, speaking
from forum.lazytext import lazy_gettext as _l
from forum.members import services as members_services
from forum.notify import live
from forum.notify.models import Notification
from forum.notify.webhooks import enqueue_webhooks
from forum.security import audit

if TYPE_CHECKING:
    from forum.members.models import Member

# What is sent is lazy: each member gets it in their own language (forum.notify.outbox).
CORRECTED_SUBJECT = _l("An alert you answered was corrected — sign in to read it")
CANCELLED_SUBJECT = _l("False alarm: an urgent alert was cancelled")
CANCELLED_TEXT = _l(
    "False alarm: an urgent alert you were sent has been cancelled. No action needed."
)


def _open_coordinated(actor: Member, alert_id: str, field: str) -> Alert:
    alert = coordinated(actor, alert_id)
    if alert.is_closed:
        closed = _(
            "This alert is %(status)s; it can no longer change.",
            status=alert.status_label.lower(),
        )
        raise AlertError(closed, field=field)
    return alert


def _english_name(code: str) -> str:
    """A country as the timeline writes it: in English, whoever corrected the alert."""
    with speaking(DEFAULT):
        return country_name(code)


def _names(codes: Sequence[str]) -> str:
    return ", ".join(_english_name(c) for c in codes) or "none"


def correct_alert(
    actor: Member,
    alert_id: str,
    *,
    title: str | None = None,
    city: str | None = None,
    country: str | None = None,
    needs: str | None = None,
    nationalities: Sequence[str] | None = None,
    severity: str | None = None,
    label: str | None = None,
    reason: str = "",
) -> Alert:
    """Correct what an open alert says (raiser or coordinator); the change goes on the timeline."""
    alert = _open_coordinated(actor, alert_id, "title")
    changes: list[str] = []

    def sealed(column: str, heading: str, value: str | None) -> None:
        if value is None or value.strip() == getattr(alert, column):
            return
        if column in ("title", "needs") and not value.strip():
            empty = (
                _("The title cannot be empty.")
                if column == "title"
                else _("Please say what is needed.")
            )
            raise AlertError(empty, field="title")
        changes.append(f"{heading}: {getattr(alert, column) or '—'} → {value.strip() or '—'}")
        alert.seal(column, value.strip())

    sealed("title", "Title", title)
    sealed("city", "City", city)
    sealed("needs", "What is needed", needs)
    if country is not None:
        place = codes([country], field="title")
        if not place:
            raise AlertError(_("Choose the country from the list."), field="title")
        if place[0] != alert.country:
            changes.append(f"Country: {_english_name(alert.country)} → {_english_name(place[0])}")
            alert.country = place[0]
    added: list[str] = []
    if nationalities is not None:
        named = codes(nationalities, field="title")
        if named != alert.nationality_codes:
            added = [c for c in named if c not in alert.nationality_codes]
            changes.append(f"Nationalities: {_names(alert.nationality_codes)} → {_names(named)}")
            alert.nationalities = ",".join(named)
    if severity is not None and severity != alert.severity:
        if severity not in SEVERITIES:
            raise AlertError(_("Please choose the severity from the list."), field="title")
        # The timeline keeps what it says as it was written (in English, as before).
        was, now = (in_language(SEVERITIES.get(s, s), DEFAULT) for s in (alert.severity, severity))
        changes.append(f"Severity: {was} → {now}")
        alert.severity = severity
    if label is not None and label != alert.label:
        if label not in LABELS:
            raise AlertError(_("Please choose a TLP label from the list."), field="title")
        changes.append(f"TLP: {alert.label} → {label}")
        alert.label = label
    if not changes:
        raise AlertError(
            _("Nothing was changed: edit a field to correct the alert."), field="title"
        )
    if reason.strip():
        changes.append(f"Why: {reason.strip()}")
    add_timeline(alert, actor, "corrected", text="\n".join(changes))
    db.session.flush()
    _reach_added_contact_points(alert, added)
    tell(
        alert,
        [m for m in answerers(alert) if m.id != actor.id],
        event=f"corrected:{utcnow().isoformat()}",
        kind="alert.corrected",
        text=_l("Alert corrected: %(title)s", title=alert.title),
        subject=CORRECTED_SUBJECT,
        body=_l("An alert you answered was corrected. Sign in to read it:\n"),
        push_text=_l("An alert you answered was corrected — open the Exchange"),
    )
    live.publish(topic(alert.id))
    audit.record(
        "alert.corrected", actor=actor, target_type="alert", target_id=alert.id, count=len(changes)
    )
    return alert


def _reach_added_contact_points(alert: Alert, added: Sequence[str]) -> None:
    """Contact points of newly named nationalities join the audience and get the alert."""
    if not added:
        return
    audience = resolve_audience(nationalities=added)
    already = set(recipient_ids(alert))
    new = [
        m for m in audience.members if m.id in audience.contact_point_ids and m.id not in already
    ]
    add_recipients(alert, new, {m.id for m in new})
    if new:
        fan_out(alert, alert.dek_id, new)


def cancel_alert(actor: Member, alert_id: str, reason: str = "") -> Alert:
    """Close an alert as a false alarm; its whole audience gets a notice that names nothing."""
    alert = _open_coordinated(actor, alert_id, "reason")
    alert.status = "cancelled"
    alert.resolved_at = utcnow()
    add_timeline(
        alert,
        actor,
        "cancelled",
        status="cancelled",
        text=reason.strip() or "Cancelled as a false alarm.",
    )
    banners.settle_closed(alert)
    db.session.flush()
    others = [i for i in recipient_ids(alert) if i != actor.id]
    audience = list(members_services.members_by_id(others).values())
    event_key = f"alert:{alert.id}:cancelled"
    # Urgent, so the notice leaves at once like the alert did; in the app it is a plain
    # notification (no banner: the banner of the alert itself goes away).
    tell(
        alert,
        audience,
        event="cancelled",
        kind="alert.cancelled",
        text=CANCELLED_TEXT,
        subject=CANCELLED_SUBJECT,
        body=_l(
            "An urgent alert you were sent from the INVICTM Exchange has been cancelled "
            "as a false alarm. No action is needed. Sign in to see it:\n"
        ),
        urgent=True,
        push_text=_l("False alarm: an urgent alert was cancelled"),
    )
    db.session.flush()
    db.session.execute(
        Notification.__table__.update()
        .where(Notification.event_key == event_key)
        .values(is_urgent=False)
    )
    enqueue_webhooks(
        event_key=event_key,
        kind="alert.cancelled",
        subject=f"Urgent alert {alert.id} cancelled: false alarm",
        link=alert.link,
        urgent=True,
    )
    live.publish(topic(alert.id))
    audit.record(
        "alert.cancelled", actor=actor, target_type="alert", target_id=alert.id, count=len(audience)
    )
    return alert
