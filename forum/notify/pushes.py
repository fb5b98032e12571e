"""Sending the outbox's push rows: open each device's sealed subscription, send, record.

The dispatcher hands a claimed batch here. Subscriptions are read and opened in one query, the
transaction is ended before anything goes on the network, and outcomes are recorded every
`RECORD_EVERY` sends (so a crash repeats at most that many, each with the same Topic and tag,
which the push service and the device collapse into the one message), or sooner once an urgent
outcome has waited `RECORD_URGENT_AFTER_SECONDS` behind slow sends. A device the push service calls
gone (404/410) is ended in the same transaction that records its row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from forum.crypto import SealError
from forum.db import utcnow
from forum.extensions import db
from forum.notify import subscriptions
from forum.notify.channels import Delivery, Outcome
from forum.notify.channels import push as push_channel
from forum.notify.models import OutboxMessage, PushSubscription
from forum.notify.outbox import NOT_NEEDED, STANDBY

log = logging.getLogger(__name__)

RECORD_EVERY = 50
# ...or sooner, once an urgent outcome has waited this long: a slow device must not keep the
# alert's board (and the standby e-mails) from learning which devices took the push.
RECORD_URGENT_AFTER_SECONDS = 1.0
# How long an urgent e-mail waits on standby at most if its pushes were never settled.
STANDBY_SECONDS = 120
DEVICE_REMOVED = "device removed"
NOT_AVAILABLE = "push is not available on this Exchange"

# record(deliveries, outcomes, before_commit): the dispatcher's grouped write and commit.
Recorder = Callable[[list[Delivery], list[Outcome], Callable[[], None] | None], None]


def sender() -> push_channel.PushSender | None:
    """A sender with this Exchange's VAPID key and settings (None: push is off or keyless)."""
    key = subscriptions.vapid_private_key()
    if key is None:
        return None
    settings = current_app.config["EXCHANGE"]
    push = settings["push"]
    return push_channel.PushSender(
        signer=push_channel.VapidSigner(
            key, push_channel.subject_of(push["contact"], settings["mail"]["from_address"])
        ),
        app_name=settings["app"]["name"],
        urgent_ttl=push["urgent_ttl_seconds"],
        normal_ttl=push["normal_ttl_seconds"],
        timeout=push["timeout_seconds"],
        allow=subscriptions.allow_list(),
    )


def _open(ids: set[str]) -> dict[str, dict[str, Any]]:
    """The live subscriptions among `ids`, opened (an ended one's key is shredded)."""
    opened: dict[str, dict[str, Any]] = {}
    if not ids:
        return opened
    rows = db.session.scalars(
        select(PushSubscription).where(
            PushSubscription.id.in_(ids), PushSubscription.ended_at.is_(None)
        )
    )
    for row in rows:
        try:
            opened[row.id] = subscriptions.subscription_info(row)
        except SealError:  # ended meanwhile: its key is gone
            continue
    return opened


def send(deliveries: Sequence[Delivery], record: Recorder) -> list[str]:
    """Send a batch of push rows; `record` writes each group of outcomes. Returns the ids of
    standby e-mails released because no device took an urgent push (to be sent at once)."""
    released: list[str] = []
    try:
        channel = sender()
        opened = _open({d.target for d in deliveries if d.target})
    finally:
        db.session.rollback()  # hold no transaction open while waiting on the network
    if channel is None:
        _flush(
            [(d, Outcome(d.id, False, NOT_AVAILABLE, cancelled=True)) for d in deliveries],
            record,
            released,
        )
        return released
    pending: list[tuple[Delivery, Outcome]] = []
    urgent_since: float | None = None  # when the oldest unrecorded urgent outcome came
    try:
        for delivery in deliveries:
            info = opened.get(delivery.target or "")
            if info is None:
                outcome = Outcome(delivery.id, False, DEVICE_REMOVED, cancelled=True)
            else:
                outcome = channel.send(delivery, info)
            pending.append((delivery, outcome))
            now = time.monotonic()
            if delivery.is_urgent and urgent_since is None:
                urgent_since = now
            late = urgent_since is not None and now - urgent_since >= RECORD_URGENT_AFTER_SECONDS
            if len(pending) >= RECORD_EVERY or late:
                _flush(pending, record, released)
                pending = []
                urgent_since = None
    finally:
        channel.close()
        if pending:
            _flush(pending, record, released)
    return released


def _standby_key(delivery: Delivery) -> str | None:
    """The idempotency key of the e-mail an urgent push row may stand in for."""
    head, found, _subscription = delivery.idempotency_key.rpartition(":push:")
    return f"{head}:email" if found and delivery.is_urgent else None


def _settle_standby(reached: set[str], missed: set[str], released: list[str]) -> None:
    """A device took the push: the standby e-mail is not needed. None did (yet): send it now."""
    if reached:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key.in_(reached), OutboxMessage.status == STANDBY)
            .values(status="cancelled", last_error=NOT_NEEDED)
            .execution_options(synchronize_session=False)
        )
    missed -= reached
    if missed:
        ids = list(
            db.session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.idempotency_key.in_(missed), OutboxMessage.status == STANDBY
                )
            )
        )
        if ids:
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == STANDBY)
                .values(status="pending", due_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            released.extend(ids)  # a row another share released first is claimed once (lease)


def _flush(pending: list[tuple[Delivery, Outcome]], record: Recorder, released: list[str]) -> None:
    delivered = [d.target for d, o in pending if o.ok and d.target]
    ended = [d.target for d, o in pending if d.target and o.error == push_channel.GONE]
    reached = {k for d, o in pending if o.ok and (k := _standby_key(d))}
    missed = {k for d, o in pending if not o.ok and (k := _standby_key(d))}

    def note_devices() -> None:
        subscriptions.mark_delivered(delivered)
        for subscription_id in ended:
            subscriptions.end_gone(subscription_id)
        _settle_standby(reached, missed, released)

    record([d for d, _ in pending], [o for _, o in pending], note_devices)


def release_standby_of(deliveries: Sequence[Delivery]) -> None:
    """The push channel broke on this batch: its urgent rows' standby e-mails go now."""
    keys = {k for d in deliveries if (k := _standby_key(d))}
    released: list[str] = []
    _settle_standby(set(), keys, released)
    db.session.commit()


def release_stale_standby(older_than_seconds: int = STANDBY_SECONDS) -> int:
    """A safety net run by the urgent sweep: a standby e-mail whose pushes were never settled
    (a push row that never reached the channel) goes after a short while all the same."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == STANDBY, OutboxMessage.due_at < cutoff)
        .values(status="pending", due_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
