"""Bounce reading: the receiver the operator routes the VERP bounce address to, and what a
bounce report changes (as Mailman 3 and Mailtrain read them).

A relay that accepted an e-mail and could not deliver it later sends an RFC 3464 report to the
message's envelope sender, `bounces+<token>@domain` (forum/notify/verp.py). The receiver, a
small aiosmtpd server in the scheduler's process, takes a recipient only when its token is one
this Exchange made (else 550), a message only up to MAX_BYTES (else 552), and marks the row the
envelope's token names "bounced" when a per-recipient block says `Action: failed`. Anything else
(a delay, a relay's success notice, an out-of-office reply) is taken with 250 and changes nothing.
Only the status code and the time are kept: never the diagnostic text, nor any address (the
report quotes the member's); logs carry the row id only.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from flask import Flask
from sqlalchemy import select, update

from forum.config import listen_address
from forum.db import utcnow, write_lock
from forum.extensions import db
from forum.notify.models import OutboxMessage
from forum.notify.verp import Verp

log = logging.getLogger(__name__)

MAX_BYTES = 256 * 1024  # a report with the original's headers is a few kilobytes
BOUNCED = "bounced"
_STATUS = re.compile(r"\s*([245]\.\d{1,3}\.\d{1,3})\b")
# aiosmtpd logs each command at INFO and each line of DATA at DEBUG: a report's lines quote the
# member's address and the remote server's diagnostic. Its logger says warnings only.
_SMTP_LOG = "mail.log"
# The receiver shares its process with the dispatch of urgent alerts: idle connections must not
# take that process's file handles. A relay needs a few; an idle one is closed after 30 s.
MAX_SESSIONS = 20
MAX_SESSIONS_PER_PEER = 5
IDLE_SECONDS = 30


@dataclass(frozen=True)
class Report:
    """What a bounce report says: whether delivery failed for good, and its status code."""

    failed: bool
    status: str | None = None


def read_report(content: bytes) -> Report:
    """Read a message sent to a bounce address: an RFC 3464 failure report, or nothing to act on."""
    message = email.message_from_bytes(content, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return Report(failed=False)  # an auto-reply, an out-of-office notice, anything else
    report_type = collapse_rfc2231_value(message.get_param("report-type") or "")
    if report_type.lower() != "delivery-status":
        return Report(failed=False)  # e.g. a disposition (read receipt) report
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if not isinstance(blocks, list):
            continue
        # blocks[0] holds the per-message fields; each later block is one recipient's.
        for block in blocks[1:]:
            if isinstance(block, Message) and _field(block, "Action") == "failed":
                match = _STATUS.match(_field(block, "Status"))
                return Report(failed=True, status=match.group(1) if match else None)
    return Report(failed=False)


def _field(block: Message, name: str) -> str:
    """A delivery-status field's value, lower-cased, without an RFC 822 comment."""
    value = str(block.get(name, "")).split("(", 1)[0]
    return value.strip().lower()


def record_bounce(row_id: str, status: str | None) -> bool:
    """Mark a sent e-mail row bounced (once): True when this report changed it.

    It begins the unit of work (write_lock ends whatever the session had read); the caller
    commits. A row that is not an e-mail, was never sent, bounced already or is gone: no change.
    """
    write_lock()
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.channel == "email",
            OutboxMessage.status == "sent",
        )
        .values(status=BOUNCED, bounced_at=utcnow(), bounce_code=status)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return bool(result.rowcount)  # type: ignore[attr-defined]


class _LimitedSMTP(SMTP):
    """An SMTP session that is turned away (421) beyond MAX_SESSIONS, or MAX_SESSIONS_PER_PEER
    from one address, so a crowd of idle connections cannot starve the alert dispatch."""

    open_sessions: dict[str, int] = {}

    def connection_made(self, transport: Any) -> None:
        peer = transport.get_extra_info("peername")
        self._peer_host = str(peer[0]) if peer else "?"
        counts = type(self).open_sessions
        if (
            sum(counts.values()) >= MAX_SESSIONS
            or counts.get(self._peer_host, 0) >= MAX_SESSIONS_PER_PEER
        ):
            self._turned_away = True
            transport.write(b"421 4.7.0 Too many connections; try again later\r\n")
            transport.close()
            return
        self._turned_away = False
        counts[self._peer_host] = counts.get(self._peer_host, 0) + 1
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if getattr(self, "_turned_away", True):
            return
        counts = type(self).open_sessions
        counts[self._peer_host] = counts.get(self._peer_host, 1) - 1
        if counts[self._peer_host] <= 0:
            counts.pop(self._peer_host, None)
        super().connection_lost(error)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _LimitedSMTP(self.handler, **self.SMTP_kwargs)


class BounceHandler:
    """The aiosmtpd handler: VERP recipients only, reports read off the event loop."""

    def __init__(self, app: Flask, verp: Verp) -> None:
        self.app = app
        self.verp = verp

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        # Every real bounce comes from the null sender (RFC 5321 §4.5.5): a report handed in
        # by a person who saw the token in her Return-Path is not one.
        if address.strip() not in ("", "<>"):
            return "550 5.7.1 Bounce reports come from the null sender"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        row_id = self.verp.row_of(address)
        if row_id is None:
            return "550 5.1.1 No such bounce address here"
        envelope.rcpt_tos.append(row_id)  # only the id is kept, never the address
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        try:
            report = read_report(envelope.original_content or envelope.content or b"")
        except Exception as error:  # noqa: BLE001 - a garbled message is nothing to act on
            # The type only: a parser's message may quote the report's text.
            log.warning("a message to a bounce address could not be read: %s", type(error).__name__)
            return "250 2.0.0 OK"
        if report.failed:
            loop = asyncio.get_running_loop()
            try:
                for row_id in dict.fromkeys(envelope.rcpt_tos):
                    await loop.run_in_executor(None, self._record, row_id, report.status)
            except Exception:  # noqa: BLE001 - the relay keeps the report and tries again
                return "451 4.3.0 The report could not be recorded; try again later"
        return "250 2.0.0 OK"

    def _record(self, row_id: str, status: str | None) -> None:
        with self.app.app_context():
            try:
                # Only a row still "sent" takes the write lock: a report repeated in a loop
                # does not queue against the alerts' dispatch.
                if (
                    db.session.scalar(
                        select(OutboxMessage.status).where(OutboxMessage.id == row_id)
                    )
                    != "sent"
                ):
                    db.session.rollback()
                    return
                changed = record_bounce(row_id, status)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("bounce for outbox row %s could not be recorded", row_id)
                raise
            finally:
                db.session.remove()
        if changed:
            log.info("outbox row %s bounced (%s)", row_id, status or "no status code")


class BounceReceiver:
    """The bounce receiver of one app: started where the scheduler's leader runs, once."""

    def __init__(self, app: Flask) -> None:
        settings = app.config["EXCHANGE"]
        verp = Verp.from_settings(settings)
        where = listen_address(settings["mail"]["bounce_listen"].strip())
        self.controller: _Controller | None = None
        self.address = where
        if verp is None or where is None:
            return
        logging.getLogger(_SMTP_LOG).setLevel(logging.WARNING)
        host, port = where
        self.controller = _Controller(
            BounceHandler(app, verp),
            hostname=host,
            port=port,
            server_hostname=verp.domain,  # the greeting's name (no host lookup)
            data_size_limit=MAX_BYTES,
            timeout=IDLE_SECONDS,
            ident="INVICTM Exchange bounce receiver",
        )

    @property
    def enabled(self) -> bool:
        """Whether mail.bounce_listen (and mail.bounce_address) ask for a receiver."""
        return self.controller is not None

    def start(self) -> None:
        """Listen on mail.bounce_listen; a port already taken is logged, deliveries go on."""
        if self.controller is None:
            return
        try:
            self.controller.start()
        except (OSError, RuntimeError) as error:
            log.error(
                "the bounce receiver cannot listen on mail.bounce_listen (%s); bounces wait at "
                "the relay",
                type(error).__name__,
            )
            self.controller = None
            return
        log.info("bounce receiver listening on %s:%s", *self.address)  # type: ignore[misc]

    def stop(self) -> None:
        """Stop listening (a report being read is finished first)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
