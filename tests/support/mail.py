"""What a real local SMTP server (aiosmtpd) received during a test."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any


@dataclass
class Mailbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    # The SMTP envelope sender (MAIL FROM) of each message, in the same order.
    senders: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.raw.clear()
            self.senders.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


class MailHandler:
    """The aiosmtpd handler that files every message it receives into a Mailbox."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.mailbox.lock:
            self.mailbox.raw.append(envelope.content)
            self.mailbox.senders.append(envelope.mail_from)
            self.mailbox.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"
