"""Scheduled sweeps of the notify feature, handed to the scheduler by create_app.

Every sweep is idempotent: it acts on rows that are due now, so a run that is missed, late or
repeated does no harm. The dispatcher's leases make concurrent sweeps safe.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete

from forum.db import utcnow
from forum.extensions import db
from forum.notify.channels.email import prune_spool
from forum.notify.dispatcher import dispatch_due, dispatch_urgent
from forum.notify.models import OutboxMessage
from forum.scheduling.registry import JobSpec

# Delivered (or cancelled) rows are kept this long for "was it sent?" questions, then deleted.
KEEP_DELIVERED_DAYS = 30


def sweep_outbox() -> None:
    """Send every due row: new ones, retries whose backoff ended, and rows a crash left leased."""
    batch = current_app.config["EXCHANGE"]["delivery"]["batch_size"]
    # A few batches per run at most, so one run never holds the scheduler for long.
    for _ in range(5):
        if dispatch_due(batch).claimed < batch:
            return


def sweep_urgent() -> None:
    """Send due urgent rows that the after-commit dispatch did not (another process wrote them,
    or this process crashed first)."""
    dispatch_urgent()


def purge_delivered() -> int:
    """Delete sent, bounced and cancelled rows older than KEEP_DELIVERED_DAYS; failed rows stay
    (a bounced row is done: there is nothing left to retry, and the board's word for it ages
    out with the "accepted" of its neighbours)."""
    cutoff = utcnow() - timedelta(days=KEEP_DELIVERED_DAYS)
    result = db.session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.status.in_(("sent", "bounced", "cancelled")),
            OutboxMessage.created_at < cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def prune_mail_spool() -> int:
    """Delete spooled .eml files (mail.smtp_host empty) whose invite or reset link expired."""
    return prune_spool(Path(current_app.instance_path) / "outbox-mail", utcnow())


def jobs() -> list[JobSpec]:
    """The notify feature's recurring jobs."""
    return [
        JobSpec(
            id="notify.prune_mail_spool",
            func=prune_mail_spool,
            trigger="interval",
            trigger_args={"minutes": 5},
            misfire_grace_time=5 * 60,
        ),
        JobSpec(
            id="notify.sweep_outbox",
            func=sweep_outbox,
            trigger="interval",
            trigger_args={"seconds": "setting:scheduler.sweep_seconds"},
            # A run that missed its slot by more than this is covered by the next one.
            misfire_grace_time=60,
        ),
        JobSpec(
            id="notify.sweep_urgent",
            func=sweep_urgent,
            trigger="interval",
            trigger_args={"seconds": "setting:delivery.urgent_sweep_seconds"},
            misfire_grace_time=10,
        ),
        JobSpec(
            id="notify.purge_delivered",
            func=purge_delivered,
            trigger="cron",
            trigger_args={"hour": 3, "minute": 17},
            # Daily housekeeping may run hours late without harm.
            misfire_grace_time=6 * 3600,
        ),
    ]
