"""The dispatcher: claims due outbox rows with a lease, sends them, records what happened.

Claiming is safe with several processes: on PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED`,
on SQLite (one process) under a lock and `BEGIN IMMEDIATE`. A claimed row carries a lease; a
process that dies mid-send leaves a lease that expires, and the next sweep sends the row again
(at-least-once, with a stable Message-ID so mail clients see one message). A failed send waits an
exponentially growing, jittered delay; after `delivery.max_attempts` it is marked failed and
shown to coordinators (notify.failed).

The dispatcher works in its own session and transactions (claim, then record), like a job: a
caller's open unit of work is neither committed nor rolled back by it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import column, func, or_, select, table, update

from forum.crypto import SealError
from forum.db import utcnow, write_lock
from forum.extensions import db
from forum.i18n import known
from forum.notify import pushes, recipients
from forum.notify.channels import Delivery, Outcome
from forum.notify.channels import webhook as webhook_channel
from forum.notify.channels.email import EmailChannel, link_lifetimes
from forum.notify.models import OutboxMessage
from forum.notify.verp import Verp
from forum.notify.webhooks import endpoint_secrets

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 6 * 3600
_sqlite_claim_lock = threading.Lock()


@dataclass
class DispatchResult:
    """Counts of what one dispatch run did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


def backoff_seconds(attempts: int, base: float, rng: random.Random | None = None) -> float:
    """Delay before the next try after `attempts` tries: base·2^(n-1), capped, half of it jittered."""
    rng = rng or random.SystemRandom()
    delay = min(MAX_BACKOFF_SECONDS, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + rng.uniform(0, delay / 2)


def _settings() -> dict[str, dict[str, Any]]:
    settings: dict[str, dict[str, Any]] = current_app.config["EXCHANGE"]
    return settings


def dispatch_due(limit: int | None = None) -> DispatchResult:
    """Claim and send due rows (urgent first, then oldest), at most `limit` (delivery.batch_size)."""
    return _dispatch(None, limit or _settings()["delivery"]["batch_size"])


def dispatch_ids(ids: Sequence[str]) -> DispatchResult:
    """Claim and send these rows now, if they are still due (urgent rows right after commit)."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return DispatchResult()
    return _dispatch(ids, len(ids))


def dispatch_urgent() -> DispatchResult:
    """Claim and send due urgent rows only (a frequent, cheap sweep); a standby e-mail whose
    pushes were never settled is released first."""
    with current_app.app_context():
        try:
            pushes.release_stale_standby()
        finally:
            db.session.remove()
    return _dispatch(None, _settings()["delivery"]["batch_size"], urgent_only=True)


def _dispatch(ids: list[str] | None, limit: int, *, urgent_only: bool = False) -> DispatchResult:
    # A fresh app context is a fresh session: the caller's transaction is left as it is.
    with current_app.app_context():
        try:
            return _dispatch_in_own_session(ids, limit, urgent_only)
        finally:
            db.session.remove()


def _dispatch_in_own_session(
    ids: list[str] | None, limit: int, urgent_only: bool
) -> DispatchResult:
    deliveries = _claim(ids, limit, urgent_only)
    result = DispatchResult(claimed=len(deliveries))
    if not deliveries:
        return result
    emails = [d for d in deliveries if d.channel == "email"]
    hooks = [d for d in deliveries if d.channel == "webhook"]
    pushed = [d for d in deliveries if d.channel == "push"]
    others = [d for d in deliveries if d.channel not in ("email", "webhook", "push")]
    # Each result is recorded as soon as it is known: a failure later in the batch can never
    # send again what went out already, nor keep a row from being recorded.
    if emails:
        _record(emails, _isolated("email", _send_emails, emails), result)
    if hooks:
        _send_webhooks(hooks, lambda d, o: _record([d], [o], result))
    if pushed:
        _send_pushes(pushed, result)
    if others:
        _record(
            others,
            [Outcome(d.id, False, "unknown channel", permanent=True) for d in others],
            result,
        )
    return result


def _isolated(
    channel: str, send: Callable[[list[Delivery]], list[Outcome]], deliveries: list[Delivery]
) -> list[Outcome]:
    """Send a group; if the channel itself breaks, its rows are retried later (not lost)."""
    try:
        outcomes = send(deliveries)
    except Exception as error:  # noqa: BLE001 - the batch must still be recorded
        # Only the type: an exception's text may carry an address or a body.
        log.error(
            "%s channel failed on %d deliveries: %s", channel, len(deliveries), type(error).__name__
        )
        outcomes = []
    finally:
        db.session.rollback()  # end the read transaction of the send phase
    known = {outcome.delivery_id for outcome in outcomes}
    return outcomes + [
        Outcome(d.id, False, "channel failed; retrying") for d in deliveries if d.id not in known
    ]


def _claim(ids: list[str] | None, limit: int, urgent_only: bool) -> list[Delivery]:
    """Take a lease on due rows and return copies of them."""
    now = utcnow()
    lease = timedelta(seconds=_settings()["delivery"]["lease_seconds"])
    query = (
        select(OutboxMessage, _member_locale())
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.due_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        .order_by(OutboxMessage.is_urgent.desc(), OutboxMessage.due_at, OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if urgent_only:
        query = query.where(OutboxMessage.is_urgent.is_(True))
    if db.engine.dialect.name == "sqlite":
        with _sqlite_claim_lock:
            write_lock()
            return _lease(_pairs(db.session.execute(query)), now + lease)
    claimed = db.session.execute(query.with_for_update(skip_locked=True, of=OutboxMessage))
    return _lease(_pairs(claimed), now + lease)


def _pairs(result: Any) -> list[tuple[OutboxMessage, str | None]]:
    return [(row, locale) for row, locale in result]


# The members' table as far as notify reads it: the language a member's e-mails are written in.
# Named here, not imported: notify is platform and never imports a feature (CONVENTIONS 13).
_MEMBERS = table("members", column("id"), column("locale"), column("seen_locale"))


def _member_locale() -> Any:
    """The recipient member's language (their choice, else their browser's at the last
    sign-in), read with the row it belongs to; NULL for a row without a member."""
    return (
        select(
            func.coalesce(
                func.nullif(_MEMBERS.c.locale, ""), func.nullif(_MEMBERS.c.seen_locale, "")
            )
        )
        .where(_MEMBERS.c.id == OutboxMessage.member_id)
        .scalar_subquery()
        .label("member_locale")
    )


def _lease(claimed: list[tuple[OutboxMessage, str | None]], until: Any) -> list[Delivery]:
    """One UPDATE takes the lease on every claimed row and counts the attempt."""
    rows = [row for row, _locale in claimed]
    if rows:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([row.id for row in rows]))
            .values(lease_until=until, attempts=OutboxMessage.attempts + 1)
            .execution_options(synchronize_session=False)
        )
    deliveries = [
        Delivery(
            id=row.id,
            channel=row.channel,
            member_id=row.member_id,
            target=row.target,
            kind=row.kind,
            subject=row.subject,
            body=_body_of(row),
            link=row.link,
            is_urgent=row.is_urgent,
            attempts=(row.attempts or 0) + 1,
            created_at=row.created_at,
            recipient_sealed=row.recipient_sealed,
            link_sealed=row.link_sealed,
            idempotency_key=row.idempotency_key,
            locale=known(locale) or known(row.locale) or "",
        )
        for row, locale in claimed
    ]
    db.session.commit()
    return deliveries


def _body_of(row: OutboxMessage) -> str:
    """The body to send: the sealed one a feature was allowed to mail, else the content-free one."""
    if row.body_sealed is None:
        return row.body
    try:
        return row.open("body")
    except SealError:  # the object was deleted and its key shredded: send the stand-in
        return row.body


def _open_copied(row_id: str, column: str, blob: bytes) -> str:
    """Open a sealed column copied out of its outbox row (the row itself is not loaded)."""
    return OutboxMessage(id=row_id, **{f"{column}_sealed": blob}).open(column)


def _send_emails(deliveries: list[Delivery]) -> list[Outcome]:
    settings = _settings()
    # Only active members' addresses come back (members resolves them; notify stores none).
    addresses = recipients.addresses(d.member_id for d in deliveries if d.member_id)

    def secret_link_of(delivery: Delivery) -> str | None:
        if delivery.link_sealed is None:
            return None
        try:
            return _open_copied(delivery.id, "link", delivery.link_sealed)
        except SealError:  # the invite was revoked and its key shredded
            return None

    def recipient_of(delivery: Delivery) -> str | None:
        if delivery.link_sealed is not None and secret_link_of(delivery) is None:
            return None
        if delivery.member_id is None:
            if delivery.recipient_sealed is None:
                return None
            try:  # someone who is not a member yet (an invite)
                return _open_copied(delivery.id, "recipient", delivery.recipient_sealed)
            except SealError:
                return None
        return addresses.get(delivery.member_id)

    channel = EmailChannel(
        settings["mail"],
        instance_path=current_app.instance_path,
        base_url=settings["app"]["base_url"],
        app_name=settings["app"]["name"],
        link_lifetimes=link_lifetimes(settings),
        verp=Verp.from_settings(settings),
    )
    return channel.send(deliveries, recipient_of, secret_link_of)


def _send_webhooks(deliveries: list[Delivery], done: Callable[[Delivery, Outcome], None]) -> None:
    """Post each webhook on its own; `done` records each outcome at once."""
    settings = _settings()
    allow = webhook_channel.allow_list()
    try:
        secrets_by_id = endpoint_secrets({d.target for d in deliveries if d.target})
    except Exception as error:  # noqa: BLE001 - recorded as retries, not lost
        log.error("webhook endpoints could not be read: %s", type(error).__name__)
        secrets_by_id = None
    finally:
        db.session.rollback()  # hold no transaction open while waiting on the network
    for delivery in deliveries:
        if secrets_by_id is None:
            done(delivery, Outcome(delivery.id, False, "channel failed; retrying"))
            continue
        endpoint = secrets_by_id.get(delivery.target or "")
        if endpoint is None:
            done(delivery, Outcome(delivery.id, False, "endpoint disabled", cancelled=True))
            continue
        outcome = webhook_channel.post(
            delivery,
            url=endpoint.url,
            secret=endpoint.secret,
            organisation_id=endpoint.organisation_id,
            base_url=settings["app"]["base_url"],
            timeout=settings["delivery"]["webhook_timeout_seconds"],
            allow=allow,
        )
        done(delivery, outcome)


def _send_pushes(deliveries: list[Delivery], result: DispatchResult) -> None:
    """Push rows, recorded in groups as they go; if the channel itself breaks, retried later."""
    recorded: set[str] = set()

    def record(
        group: list[Delivery], outcomes: list[Outcome], before_commit: Callable[[], None] | None
    ) -> None:
        _record(group, outcomes, result, before_commit)
        recorded.update(d.id for d in group)

    try:
        released = pushes.send(deliveries, record)
    except Exception as error:  # noqa: BLE001 - the batch must still be recorded
        db.session.rollback()
        log.error("push channel failed on %d deliveries: %s", len(deliveries), type(error).__name__)
        rest = [d for d in deliveries if d.id not in recorded]
        _record(rest, [Outcome(d.id, False, "channel failed; retrying") for d in rest], result)
        try:  # their urgent e-mails must not wait on a broken channel (the sweep sends them)
            pushes.release_standby_of(rest)
        except Exception as again:  # noqa: BLE001 - the sweep's safety net releases them later
            db.session.rollback()
            log.error("standby e-mails not released: %s", type(again).__name__)
        return
    if released:  # urgent e-mails no device took the push for: sent now, not at the next sweep
        more = _dispatch_in_own_session(released, len(released), False)
        for name in ("claimed", "sent", "retrying", "failed", "cancelled"):
            setattr(result, name, getattr(result, name) + getattr(more, name))


def _record(
    deliveries: list[Delivery],
    outcomes: list[Outcome],
    result: DispatchResult,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """Mark rows sent, due again later, failed, or cancelled; grouped statements, one commit
    (with `before_commit`'s writes, such as ending a device the push service called gone)."""
    settings = _settings()["delivery"]
    by_id = {d.id: d for d in deliveries}
    now = utcnow()
    # (status, last_error) -> ids, for the outcomes that share their values.
    grouped: dict[tuple[str, str | None], list[str]] = {}
    retries: list[tuple[str, Any, str | None]] = []
    for outcome in outcomes:
        delivery = by_id[outcome.delivery_id]
        if outcome.ok:
            grouped.setdefault(("sent", None), []).append(delivery.id)
            result.sent += 1
        elif outcome.cancelled:
            grouped.setdefault(("cancelled", outcome.error), []).append(delivery.id)
            result.cancelled += 1
        elif outcome.permanent or delivery.attempts >= settings["max_attempts"]:
            grouped.setdefault(("failed", outcome.error), []).append(delivery.id)
            result.failed += 1
            log.warning(
                "delivery %s (%s) failed after %d attempts: %s",
                delivery.id,
                delivery.channel,
                delivery.attempts,
                outcome.error,
            )
        else:
            delay = backoff_seconds(delivery.attempts, settings["retry_base_seconds"])
            retries.append((delivery.id, now + timedelta(seconds=delay), outcome.error))
            result.retrying += 1
            log.info(
                "delivery %s (%s) attempt %d failed (%s); next try in %.0f s",
                delivery.id,
                delivery.channel,
                delivery.attempts,
                outcome.error,
                delay,
            )
    write_lock()
    for (status, error), ids in grouped.items():
        values: dict[str, Any] = {"status": status, "last_error": error, "lease_until": None}
        if status == "sent":
            values["sent_at"] = now
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    for row_id, due_at, error in retries:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(due_at=due_at, last_error=error, lease_until=None)
            .execution_options(synchronize_session=False)
        )
    if before_commit is not None:
        before_commit()
    db.session.commit()
