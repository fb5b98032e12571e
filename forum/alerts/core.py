"""What every alerts service shares: its errors, the live topic, reading an alert, the timeline
and telling members through the outbox. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import select

from forum.alerts import policy
from forum.alerts.models import Alert, AlertAnswer, AlertRecipient, AlertUpdate
from forum.countries import is_country
from forum.db import new_id, utcnow
from forum.errors import Invalid, NotFound
from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import LazyText
from forum.lazytext import lazy_gettext as _l
from forum.members import services as members_services
from forum.notify.outbox import Written, notify

if TYPE_CHECKING:
    from forum.members.models import Member

NOT_YOURS = _l("There is no such alert, or it is not yours to see.")


class AlertError(Invalid):
    """A request about an alert that cannot be done, said in one plain sentence."""


class AlertNotFound(NotFound):
    """No such alert, or not one the member may see (the same answer for both)."""

    def __init__(self, message: Text = NOT_YOURS, **details: Any) -> None:
        super().__init__(str(message), **details)


def topic(alert_id: str) -> str:
    """The live topic pages watch to follow one alert."""
    return f"alert:{alert_id}"


def codes(values: Sequence[str], *, field: str = "country") -> list[str]:
    """ISO 3166-1 alpha-2 codes, upper-cased, once each; anything else is refused."""
    found: list[str] = []
    for value in values:
        code = value.strip().upper()
        if not code:
            continue
        if not is_country(code):
            raise AlertError(_("Choose the country from the list."), field=field)
        if code not in found:
            found.append(code)
    return found


def get_alert(member: Member, alert_id: str) -> Alert:
    """The alert, if the member may read it; otherwise AlertNotFound."""
    alert = db.session.get(Alert, alert_id)
    if alert is None or not policy.can_read(member, alert):
        raise AlertNotFound(NOT_YOURS)
    return alert


def coordinated(actor: Member, alert_id: str) -> Alert:
    """The alert, if the actor may coordinate it (raiser or coordinator); otherwise not found."""
    alert = get_alert(actor, alert_id)
    if not policy.can_coordinate(actor, alert):
        raise AlertNotFound(NOT_YOURS)
    return alert


def add_timeline(
    alert: Alert, author: Member | None, event: str, *, status: str | None = None, text: str = ""
) -> AlertUpdate:
    """Add one entry to the alert's timeline, its text sealed under the alert's key."""
    row = AlertUpdate(
        id=new_id(),
        alert_id=alert.id,
        author_id=author.id if author else None,
        event=event,
        status=status,
        created_at=utcnow(),
    )
    if text:
        row.seal("text", text, key_id=alert.dek_id)
    db.session.add(row)
    return row


def recipient_ids(alert: Alert) -> list[str]:
    """The ids of the alert's frozen audience (raiser included)."""
    return list(
        db.session.scalars(
            select(AlertRecipient.member_id).where(AlertRecipient.alert_id == alert.id)
        )
    )


def answerers(alert: Alert) -> list[Member]:
    """The members who answered the alert."""
    ids = db.session.scalars(select(AlertAnswer.member_id).where(AlertAnswer.alert_id == alert.id))
    return list(members_services.members_by_id(ids).values())


def _joined(text: Text, tail: str) -> str:
    return str(text) + tail


def then(text: Text, tail: str) -> Text:
    """A text followed by an untranslated tail (a link): still translated when it is read."""
    if isinstance(text, LazyString):
        return LazyText(_joined, text, tail)
    return text + tail


def tell(
    alert: Alert,
    members: Sequence[Member],
    *,
    event: str,
    kind: str,
    text: Text,
    subject: Text,
    body: Text,
    urgent: bool = False,
    push_text: Text | None = None,
) -> Written:
    """Write the in-app, e-mail and push rows telling members about the alert (the body ends
    with its link); the one way the alerts feature fans out through the outbox. `push_text` is
    content-free (a lock screen shows it); the category's own text when None. Every text is
    a lazy `_l(...)` text, so each member reads it in their own language."""
    return notify(
        members,
        event_key=f"alert:{alert.id}:{event}",
        kind=kind,
        text=text,
        key=alert.dek_id,
        link=alert.link,
        email_subject=subject,
        email_body=then(body, alert.link),
        urgent=urgent,
        push_text=push_text,
    )


def timeline(member: Member, alert: Alert) -> list[AlertUpdate]:
    """The alert's timeline, oldest first (for anyone who may read the alert)."""
    if not policy.can_read(member, alert):
        raise AlertNotFound(NOT_YOURS)
    return list(
        db.session.scalars(
            select(AlertUpdate)
            .where(AlertUpdate.alert_id == alert.id)
            .order_by(AlertUpdate.created_at)
        )
    )
