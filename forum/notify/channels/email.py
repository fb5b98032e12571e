"""E-mail over SMTP: one connection reused for a batch; `.eml` files when no SMTP host is set.

Bodies say what happened and link to it; they never carry confidential content. The recipient's
address is opened from the member's sealed column at send time and never stored in the clear.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formataddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

from forum.db import utcnow
from forum.i18n import DEFAULT, in_language
from forum.lazytext import lazy_gettext as _l
from forum.notify.channels import Delivery, Outcome, absolute_link
from forum.notify.verp import Verp

log = logging.getLogger(__name__)

# The fixed words of every e-mail, said in the recipient's language when it is built.
OPEN_IT = _l("Open it in the Exchange:")
FOOTER = _l(
    "This message only says that something happened; the details stay in the Exchange, "
    "where you will be asked to sign in.\n"
    "You can turn off e-mail notifications in your profile (urgent alerts are always sent)."
)
# Someone who is not a member yet (an invitation) has no profile to turn anything off in.
FOOTER_GUEST = _l(
    "You received this because a member of the network invited you. "
    "If you did not expect it, you can ignore it."
)


def _header(text: str) -> str:
    """A header value, RFC 2047-encoded only when it is not plain ASCII."""
    return text if text.isascii() else Header(text, "utf-8").encode()


def build_message(
    delivery: Delivery,
    recipient: str,
    *,
    from_address: str,
    base_url: str,
    app_name: str,
    link: str | None = None,
) -> Message:
    """The e-mail for one delivery: content-free subject and body, a link, a stable Message-ID.

    `link` (absolute) replaces the row's own link when that link is itself a secret (invites).
    Its fixed words are in the recipient member's language (`delivery.locale`), else English.
    Built with the compat32 classes: about four times cheaper than Message.set_content,
    which matters when an urgent alert goes to every member at once.
    """
    link = link or absolute_link(base_url, delivery.link)
    # The member's language, or the one an invitation was written in (`Delivery.locale`).
    language = delivery.locale or DEFAULT
    footer = in_language(FOOTER if delivery.member_id else FOOTER_GUEST, language)
    open_it = in_language(OPEN_IT, language)
    text = f"{delivery.body}\n\n{open_it}\n{link}\n\n-- \n{footer}\n"
    message = MIMEText(text, "plain", "utf-8")
    message["From"] = formataddr((app_name, from_address))
    message["To"] = recipient
    message["Subject"] = _header(delivery.subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = delivery.message_id
    message["Content-Language"] = language  # RFC 3282: mail clients pick their spell checker
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    if delivery.is_urgent:
        message["Importance"] = "high"
        message["X-Priority"] = "1"
    return message


def link_lifetimes(settings: Mapping[str, Mapping[str, Any]]) -> dict[str, timedelta]:
    """How long the secret link of each kind of e-mail works (its `Expires:` header)."""
    invite = timedelta(hours=settings["security"]["invite_ttl_hours"])
    # A password reset link works 30 minutes (forum.members.recovery.RESET_MINUTES).
    return {"invite": invite, "account_setup": invite, "password_reset": timedelta(minutes=30)}


def prune_spool(spool: Path, now: datetime) -> int:
    """Delete spooled .eml files whose link expired (their `Expires:` header is past)."""
    removed = 0
    if not spool.is_dir():
        return 0
    parser = BytesHeaderParser()
    for path in spool.glob("*.eml"):
        try:
            with path.open("rb") as handle:
                expires = parser.parse(handle).get("Expires")
            if expires and parsedate_to_datetime(str(expires)) <= now:
                path.unlink()
                removed += 1
        except (OSError, TypeError, ValueError):
            log.warning("spool: could not read or remove %s", path.name)
    return removed


class EmailChannel:
    """Sends a batch of e-mail deliveries over one SMTP connection (or into .eml files)."""

    def __init__(
        self,
        mail: dict[str, Any],
        *,
        instance_path: str,
        base_url: str,
        app_name: str,
        link_lifetimes: Mapping[str, timedelta] | None = None,
        verp: Verp | None = None,
    ):
        self.mail = mail
        # With a bounce address: each message's envelope sender names its row (VERP), so a
        # bounce report the relay sends back later reaches the bounce receiver for that row.
        self.verp = verp
        self.base_url = base_url
        self.app_name = app_name
        self.spool = Path(instance_path) / "outbox-mail"
        self.link_lifetimes = dict(link_lifetimes or {})

    def send(
        self,
        deliveries: Sequence[Delivery],
        recipient_of: Callable[[Delivery], str | None],
        secret_link_of: Callable[[Delivery], str | None] = lambda _delivery: None,
    ) -> list[Outcome]:
        """Send every delivery; `recipient_of` opens the address (None: nobody to send to),
        `secret_link_of` opens a sealed link (None: the row's own link)."""
        outcomes: list[Outcome] = []
        ready: list[tuple[Delivery, Message]] = []
        for delivery in deliveries:
            recipient = recipient_of(delivery)
            if recipient is None:
                outcomes.append(
                    Outcome(delivery.id, ok=False, error="no recipient", cancelled=True)
                )
                continue
            message = build_message(
                delivery,
                recipient,
                from_address=self.mail["from_address"],
                base_url=self.base_url,
                app_name=self.app_name,
                link=secret_link_of(delivery),
            )
            lifetime = self.link_lifetimes.get(delivery.kind)
            if delivery.link_sealed is not None and lifetime is not None:
                # RFC 4021 Expires: when the link stops working; the spool is pruned after it.
                message["Expires"] = format_datetime(delivery.created_at + lifetime)
            ready.append((delivery, message))
        if not ready:
            return outcomes
        if not self.mail["smtp_host"]:
            return outcomes + [self._write_eml(d, m) for d, m in ready]
        return outcomes + self._send_smtp(ready)

    def _write_eml(self, delivery: Delivery, message: Message) -> Outcome:
        """The embedded default: one .eml file per message, readable by the owner only."""
        try:
            self.spool.mkdir(mode=0o700, parents=True, exist_ok=True)
            target = self.spool / f"{delivery.id}.eml"
            temporary = target.with_suffix(".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(message))
            os.replace(temporary, target)
        except OSError as error:
            return Outcome(delivery.id, ok=False, error=f"spool: {error.strerror or 'error'}")
        return Outcome(delivery.id, ok=True)

    def _connect(self) -> smtplib.SMTP:
        mail = self.mail
        client = smtplib.SMTP(
            mail["smtp_host"], mail["smtp_port"], timeout=mail["smtp_timeout_seconds"]
        )
        try:
            client.ehlo()
            if mail["smtp_starttls"]:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if mail["smtp_username"]:
                client.login(mail["smtp_username"], mail["smtp_password"])
        except BaseException:
            client.close()
            raise
        return client

    def _send_smtp(self, ready: list[tuple[Delivery, Message]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        try:
            client = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            reason = _reason(error)
            log.warning("SMTP connection failed (%s); %d deliveries wait", reason, len(ready))
            return [Outcome(d.id, ok=False, error=reason) for d, _ in ready]
        try:
            for index, (delivery, message) in enumerate(ready):
                try:
                    sender = self.verp.address_for(delivery.id) if self.verp else None
                    client.send_message(message, from_addr=sender)
                except smtplib.SMTPResponseException as error:
                    permanent = 500 <= error.smtp_code < 600
                    outcomes.append(Outcome(delivery.id, False, _reason(error), permanent))
                    if error.smtp_code == 421:  # the server is closing the connection
                        raise smtplib.SMTPServerDisconnected("421") from None
                except smtplib.SMTPRecipientsRefused as error:
                    codes = {code for code, _ in error.recipients.values()}
                    permanent = all(500 <= code < 600 for code in codes)
                    outcomes.append(Outcome(delivery.id, False, "recipient refused", permanent))
                except (OSError, smtplib.SMTPException) as error:
                    # The connection broke: this and every later message of the batch wait.
                    reason = _reason(error)
                    outcomes.extend(Outcome(d.id, False, reason) for d, _ in ready[index:])
                    return outcomes
                else:
                    outcomes.append(Outcome(delivery.id, ok=True))
        except smtplib.SMTPServerDisconnected:
            done = {o.delivery_id for o in outcomes}
            outcomes.extend(Outcome(d.id, False, "SMTP 421") for d, _ in ready if d.id not in done)
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        return outcomes


def _reason(error: BaseException) -> str:
    """A short, content-free reason (never the server's text: it may quote an address)."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "server disconnected"
    if isinstance(error, ssl.SSLError):
        return "TLS error"
    return type(error).__name__
