"""The urgent-alert banners a member sees on every page, and how they go away.

A banner stands for one open alert that the member was asked to answer (an unread urgent
notification about it) and has not answered. It goes away when the member answers (the
notification is read), snoozes it on the page ("Later"), or the alert closes: closing clears the
urgency of every notification about the alert, so no page renders its banner again, and
publishes the content-free topic "alerts:closed" so open pages fetch their banners anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from forum.alerts import policy
from forum.alerts.models import CLOSED, Alert
from forum.countries import country_name
from forum.db import utcnow
from forum.extensions import db
from forum.markup import tlp
from forum.notify import live
from forum.notify.models import Notification

if TYPE_CHECKING:
    from forum.members.models import Member

CLOSED_TOPIC = "alerts:closed"
# The notification kinds that ask for an answer (or, for coordinators, for action).
BANNER_KINDS = ("alert.raised", "alert.reminder", "alert.escalated")
ANSWERABLE_KINDS = ("alert.raised", "alert.reminder")
MAX_BANNERS = 5


@dataclass(frozen=True)
class Banner:
    """One open alert's banner for one member."""

    alert: Alert
    kind: str

    @property
    def is_answerable(self) -> bool:
        return self.kind in ANSWERABLE_KINDS

    @property
    def label(self) -> tlp.Label:
        return tlp.LABELS.get(self.alert.label, tlp.LABELS[tlp.AMBER])

    @property
    def headline(self) -> str:
        alert = self.alert
        place = ", ".join(p for p in (alert.city, country_name(alert.country)) if p)
        if place:
            return _(
                "%(severity)s: %(title)s — %(place)s",
                severity=alert.severity_label,
                title=alert.title,
                place=place,
            )
        return _("%(severity)s: %(title)s", severity=alert.severity_label, title=alert.title)


def _alert_id(link: str) -> str | None:
    prefix = "/alerts/"
    if not link.startswith(prefix) or "/" in link[len(prefix) :]:
        return None
    return link[len(prefix) :]


def banners_for(member: Member, *, excluding: str | None = None) -> list[Banner]:
    """The banners the member sees now: open alerts asking for her answer, newest first."""
    rows = db.session.execute(
        select(Notification.link, Notification.kind)
        .where(
            Notification.member_id == member.id,
            Notification.read_at.is_(None),
            Notification.is_urgent.is_(True),
            Notification.kind.in_(BANNER_KINDS),
            Notification.created_at >= utcnow() - timedelta(days=7),
        )
        .order_by(Notification.created_at.desc())
        .limit(4 * MAX_BANNERS)
    ).all()
    kinds: dict[str, str] = {}
    for link, kind in rows:
        alert_id = _alert_id(link)
        if alert_id and alert_id != excluding:
            # An unanswered "raised" or reminder outranks an escalation notice for the same alert.
            if kinds.get(alert_id) not in ANSWERABLE_KINDS:
                kinds[alert_id] = kind
    if not kinds:
        return []
    alerts = db.session.scalars(
        select(Alert)
        .where(
            Alert.id.in_(list(kinds)),
            Alert.status.not_in(CLOSED),
            Alert.raiser_id != member.id,
        )
        .order_by(Alert.created_at.desc())
        .limit(MAX_BANNERS)
    ).all()
    # The notification says the member was asked; the policy still decides what she may read.
    return [Banner(alert, kinds[alert.id]) for alert in alerts if policy.can_read(member, alert)]


def page_banners(member: Member | None, *, excluding: str | None = None) -> list[Banner]:
    """The banners for the page being rendered (none when signed out or the database is down)."""
    if member is None or not member.is_authenticated:
        return []
    try:
        return banners_for(member, excluding=excluding)
    except SQLAlchemyError:
        db.session.rollback()  # the database is down: the error page still renders
        return []


def settle_closed(alert: Alert) -> None:
    """The alert has closed: no page shows its banner again, and open pages are told."""
    db.session.execute(
        update(Notification)
        .where(Notification.link == alert.link, Notification.is_urgent.is_(True))
        .values(is_urgent=False)
    )
    live.publish(CLOSED_TOPIC)


def may_watch_closed(member: Member, ref: str) -> bool:
    """Every active member's pages may learn that some alert closed (the topic names none)."""
    return ref == "closed" and bool(member.is_active_member)
