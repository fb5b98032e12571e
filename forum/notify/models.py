"""In-app notifications and the outbox of external deliveries (e-mail, webhooks)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from forum.crypto.sealed import SealedColumns
from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db


class Notification(SealedColumns, db.Model):  # type: ignore[name-defined]
    """One in-app notification for one member (the bell). Its text is sealed."""

    __sealed_table__ = "notification"

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("member_id", "event_key", name="uq_notifications_member_event"),
        Index("ix_notifications_member_unread", "member_id", "read_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    event_key: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(40))
    text_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    link: Mapped[str] = mapped_column(String(300))
    is_urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Notification {self.id} member={self.member_id} {self.kind}>"


class OutboxMessage(SealedColumns, db.Model):  # type: ignore[name-defined]
    """One external delivery to one member on one channel. Subject and body are content-free."""

    __sealed_table__ = "outbox"
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(240), unique=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))  # "email" | "webhook" | "push"
    # The webhook endpoint's id, or the push subscription's id.
    target: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    # For a recipient who is not a member yet (an invite): the address, sealed under the data key
    # the sender chose, context ("outbox", id, "recipient"); see outbox.enqueue_external.
    recipient_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A link that is itself a secret (an invite's one-time token), sealed like recipient_sealed
    # with context ("outbox", id, "link"); `link` then holds only a harmless placeholder path.
    link_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A body a feature was explicitly allowed to mail (a series' joining details), sealed under
    # the object's data key; `body` then holds its content-free stand-in.
    body_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300))
    # The language of an e-mail to someone who is not a member (an invitation); a member's
    # e-mail is written in the member's language, read when it is sent.
    locale: Mapped[str] = mapped_column(String(8), default="")
    is_urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending|sent|failed|cancelled|standby, and "bounced": an e-mail the relay accepted whose
    # bounce report came back later (forum/notify/bounces.py).
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # A bounced e-mail: when its report came, and the report's status code only ("5.1.1"; never
    # the diagnostic text, which quotes the address).
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_code: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def message_id(self) -> str:
        """The stable RFC 5322 Message-ID: a retried send carries the same one."""
        return f"<{self.id}@invictm-exchange>"

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.channel} {self.status}>"


class WebhookEndpoint(SealedColumns, db.Model):  # type: ignore[name-defined]
    """An organisation's signed webhook. Its URL and signing secret are sealed (a URL may
    itself carry a bearer token, e.g. a chat service's incoming-webhook address)."""

    __sealed_table__ = "webhook_endpoint"

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    url_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Scheme and host only, for lists and logs ("https://hooks.example.org").
    origin: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} org={self.organisation_id}>"


class PushSubscription(SealedColumns, db.Model):  # type: ignore[name-defined]
    """One device of a member that receives Web Push (RFC 8030): its push service endpoint and
    message-encryption keys (RFC 8291), sealed under the subscription's own data key, which is
    shredded when the subscription ends. The device also holds an answer credential (only its
    SHA-256 is stored) that lets it answer alerts from a notification, and nothing else."""

    __sealed_table__ = "push_subscription"
    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_member_live", "member_id", "ended_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    dek_id: Mapped[str | None] = mapped_column(ForeignKey("data_keys.id"))
    # The members feature's session row the device subscribed from (ended with it on sign-out).
    session_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # {"endpoint": …, "keys": {"p256dh": …, "auth": …}} as the browser gave it, sealed.
    subscription_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # A blind index of the endpoint, so the same device subscribing again replaces its row.
    endpoint_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # Scheme and host of the push service, for lists and logs ("https://fcm.googleapis.com").
    service: Mapped[str] = mapped_column(String(200))
    # What the member sees in their list ("Chrome on Android"), from the browser's user agent.
    device_label: Mapped[str] = mapped_column(String(80), default="")
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))

    @property
    def is_live(self) -> bool:
        return self.ended_at is None

    def __repr__(self) -> str:
        return f"<PushSubscription {self.id} member={self.member_id} {self.service}>"


class DeliveryChoice(db.Model):  # type: ignore[name-defined]
    """A member's choice of channels for one kind of event (preferences.CATEGORIES). No row:
    the category's default."""

    __tablename__ = "delivery_choices"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    push: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuietHours(db.Model):  # type: ignore[name-defined]
    """A member's quiet hours, minutes after midnight in their own time zone; everything but
    urgent alerts waits until they end. start == end: none."""

    __tablename__ = "quiet_hours"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    start_minute: Mapped[int] = mapped_column(Integer, default=0)
    end_minute: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
