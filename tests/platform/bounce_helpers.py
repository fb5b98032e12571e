"""Shared steps of the bounce tests: an alert e-mailed through the real path, and its row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from forum.alerts.models import Alert
from forum.extensions import db
from forum.members.models import Member
from forum.notify import preferences
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import OutboxMessage
from tests.support.alerts import raise_alert
from tests.support.mail import Mailbox

BOUNCE_ADDRESS = "bounces@exchange.invictm.test"


@dataclass
class Mailed:
    """An alert e-mailed to one member: what the relay (the test SMTP server) received."""

    alert: Alert
    coordinator: Member
    member: Member
    address: str
    envelope: str  # the envelope sender (MAIL FROM) the relay was given
    raw: bytes  # the message as the relay received it
    row_id: str


def email_row(row_id: str) -> OutboxMessage:
    """An outbox row, fresh from the database (a new transaction: what the bounce receiver
    committed meanwhile is seen)."""
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(OutboxMessage, row_id)
    assert row is not None
    return row


def alert_by_email(members, mailbox: Mailbox, address: str) -> Mailed:
    """Raise an urgent alert that reaches a member (who chose e-mail) at `address`."""
    raiser, coordinator = members.make(), members.coordinator()
    member = members.make(email=address)
    preferences.save_choices(member, {"urgent_alerts": "email"})
    db.session.commit()
    alert = raise_alert(raiser)
    dispatch_due()
    db.session.commit()
    with mailbox.lock:
        (index,) = [i for i, m in enumerate(mailbox.messages) if address in str(m["To"])]
        envelope, raw = mailbox.senders[index], mailbox.raw[index]
    (row_id,) = db.session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.member_id == member.id, OutboxMessage.channel == "email"
        )
    )
    assert email_row(row_id).status == "sent"
    return Mailed(alert, coordinator, member, address, envelope, raw, row_id)
