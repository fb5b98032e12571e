"""Small helpers shared by the platform tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from forum.crypto import envelope
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.notify.models import OutboxMessage
from forum.notify.outbox import notify
from tests.support.net import free_port

CONFIDENTIAL = "Canary-7f3a: the dial-in is +32 2 555 0199 PIN 4711"


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    return free_port()


def notify_by_email(
    members: list[Member], *, event: str = "event-1", urgent: bool = False, **kwargs: Any
) -> list[str]:
    """Notify members of an event with a confidential in-app text and a content-free e-mail."""
    key = envelope.new_data_key("test")
    written = notify(
        members,
        event_key=f"test:{event}",
        kind="thread.reply",
        text=CONFIDENTIAL,
        key=key,
        link="/threads/abc123",
        email_subject="New reply in a thread you follow",
        email_body="Someone replied in a thread you follow.",
        urgent=urgent,
        **kwargs,
    )
    db.session.commit()
    return written.outbox_ids


def rows() -> list[OutboxMessage]:
    """Every outbox row, fresh from the database."""
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))


def make_due_now() -> None:
    """Time passes: every waiting row is due (backoff over)."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "pending")
        .values(due_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
