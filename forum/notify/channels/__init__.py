"""Delivery channels: each turns claimed outbox rows into sends and reports an Outcome per row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Delivery:
    """A claimed outbox row, copied out of the session so sending holds no transaction open."""

    id: str
    channel: str
    member_id: str | None
    target: str | None
    kind: str
    subject: str
    body: str
    link: str
    is_urgent: bool
    attempts: int
    created_at: datetime
    # An address (invites: not a member yet) and a link that is itself a secret, both sealed.
    recipient_sealed: bytes | None = None
    link_sealed: bytes | None = None
    idempotency_key: str = ""
    # The recipient member's language (members.locale; "" for someone not a member: English).
    locale: str = ""

    @property
    def message_id(self) -> str:
        """The stable RFC 5322 Message-ID (same as OutboxMessage.message_id)."""
        return f"<{self.id}@invictm-exchange>"


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivery. `error` is short and content-free (it is stored)."""

    delivery_id: str
    ok: bool
    error: str | None = None
    # No retry can help: the recipient is gone, the endpoint was disabled, or a 5xx refusal.
    permanent: bool = False
    # Nothing to deliver any more (member removed, key shredded): neither sent nor failed.
    cancelled: bool = False


def absolute_link(base_url: str, link: str) -> str:
    """The full address of an in-app link for an e-mail or a webhook."""
    return base_url.rstrip("/") + "/" + link.lstrip("/")
