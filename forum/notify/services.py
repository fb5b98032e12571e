"""The bell (a member's in-app notifications) and coordinators' view of failed deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from forum.crypto import SealError
from forum.db import utcnow
from forum.errors import NotAllowed, NotFound
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.notify import policy
from forum.notify.models import Notification, OutboxMessage
from forum.notify.recipients import Actor, Recipient
from forum.security import audit

PAGE_SIZE = 25
GONE_TEXT = _l("This notification's subject has been deleted.")
RETRY_REFUSED = _l("Only coordinators may retry deliveries.")


class NotifyError(NotAllowed):
    """A notification rule was broken; the message is a plain sentence for the user."""


@dataclass(frozen=True)
class Item:
    """One notification as the bell lists it, its text opened."""

    notification: Notification
    text: str

    @property
    def is_unread(self) -> bool:
        return self.notification.read_at is None


@dataclass(frozen=True)
class Page:
    """One page of a member's notifications."""

    items: list[Item]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def unread_count(member: Recipient) -> int:
    """How many of the member's notifications are unread."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.member_id == member.id, Notification.read_at.is_(None))
        )
        or 0
    )


def _open(notification: Notification) -> str:
    try:
        return notification.open("text")
    except SealError:
        return str(GONE_TEXT)  # shredded with the object it was about


def notifications_page(member: Recipient, number: int = 1) -> Page:
    """The member's notifications, newest first, a page at a time."""
    number = max(1, number)
    rows = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.member_id == member.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((number - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
    )
    items = [Item(n, _open(n)) for n in rows[:PAGE_SIZE]]
    return Page(items=items, number=number, has_next=len(rows) > PAGE_SIZE)


def get_own(member: Recipient, notification_id: str) -> Notification:
    """One of the member's own notifications (anyone else's is 'not found')."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.member_id != member.id:
        raise NotFound(_("There is no such notification."))
    return notification


def mark_read(member: Recipient, notification_id: str) -> Notification:
    """Mark one of the member's notifications read; returns it."""
    notification = get_own(member, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(member: Recipient) -> int:
    """Mark every unread notification of the member read; returns how many."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.member_id == member.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def bell_badge(member: Recipient | None) -> str:
    """What the bell shows: "" for none (the badge hides), the count, or "99+"."""
    try:
        if not member or not getattr(member, "is_authenticated", False):
            return ""  # (reading the signed-in member may itself need the database)
        count = unread_count(member)
    except SQLAlchemyError:
        # The database is down: the friendly error page must still render, without a count.
        # This ends only the failed read (a page that renders nothing has nothing to keep).
        db.session.rollback()
        return ""
    return "" if count == 0 else ("99+" if count > 99 else str(count))


@dataclass(frozen=True)
class BellPage:
    """The bell's page: a page of notifications, and failed deliveries for coordinators."""

    page: Page
    failed: int


def bell_page(member: Actor, number: int = 1) -> BellPage:
    """The member's notifications page; coordinators also see how many deliveries gave up."""
    page = notifications_page(member, number)  # type: ignore[arg-type]
    return BellPage(page, failed_count() if policy.may_coordinate(member) else 0)


def safe_link(link: str) -> str:
    """A notification's link if it stays on this site, else the bell (no open redirect)."""
    # No backslash, whitespace or control character anywhere: browsers drop or fold them, so
    # "/\t/evil.example" would become "//evil.example" (another site).
    clean = all(ch.isprintable() and not ch.isspace() for ch in link) and "\\" not in link
    if clean and link.startswith("/") and not link.startswith("//"):
        return link
    return "/notifications"


# --- failed deliveries (coordinators) ------------------------------------------------------


def failed_deliveries(limit: int = 200) -> list[OutboxMessage]:
    """Deliveries that gave up, newest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "failed")
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
    )


def failed_count() -> int:
    """How many deliveries gave up."""
    return int(
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "failed")
        )
        or 0
    )


def retry_delivery(actor: Actor, outbox_id: str) -> OutboxMessage:
    """Put a failed delivery back in the queue with a fresh set of attempts."""
    if not policy.may_coordinate(actor):
        raise NotifyError(RETRY_REFUSED)
    row = db.session.get(OutboxMessage, outbox_id)
    if row is None or row.status != "failed":
        raise NotFound(_("There is no such failed delivery."))
    row.status = "pending"
    row.attempts = 0
    row.due_at = utcnow()
    row.lease_until = None
    audit.record(
        "delivery.retried",
        actor=actor,
        target_type="outbox",
        target_id=row.id,
        channel=row.channel,
        kind=row.kind,
    )
    db.session.flush()
    return row


def retry_all_failed(actor: Actor) -> int:
    """Put every failed delivery back in the queue; returns how many."""
    if not policy.may_coordinate(actor):
        raise NotifyError(RETRY_REFUSED)
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "failed")
        .values(status="pending", attempts=0, due_at=utcnow(), lease_until=None)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit.record("delivery.retried", actor=actor, target_type="outbox", count=count)
    return count


def poll_state(member: Recipient) -> tuple[int, list[Notification]]:
    """For a page without its live stream: the unread count, and the member's unread urgent
    notifications of the last week (at most five, oldest first)."""
    urgent = db.session.scalars(
        select(Notification)
        .where(
            Notification.member_id == member.id,
            Notification.read_at.is_(None),
            Notification.is_urgent.is_(True),
            Notification.created_at >= utcnow() - timedelta(days=7),
        )
        .order_by(Notification.created_at.desc())
        .limit(5)
    ).all()
    return unread_count(member), list(reversed(urgent))
