"""Scheduled sweeps of the threads feature, handed to the scheduler by create_app."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from forum.db import utcnow
from forum.extensions import db
from forum.scheduling.registry import JobSpec
from forum.threads import attachments
from forum.threads.models import SearchChange

# Search change rows older than this are deleted; a process that slept longer rebuilds its index.
KEEP_SEARCH_CHANGES_DAYS = 7


def prune_search_changes() -> int:
    """Delete old rows of the search change counter (the newest row always stays)."""
    newest = db.session.scalar(select(func.max(SearchChange.seq)))
    if newest is None:
        return 0
    result = db.session.execute(
        delete(SearchChange).where(
            SearchChange.created_at < utcnow() - timedelta(days=KEEP_SEARCH_CHANGES_DAYS),
            SearchChange.seq < newest,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def jobs() -> list[JobSpec]:
    """The threads feature's recurring jobs."""
    return [
        JobSpec(
            id="threads.prune_search_changes",
            func=prune_search_changes,
            trigger="interval",
            trigger_args={"hours": 6},
            misfire_grace_time=3600,
        ),
        JobSpec(
            id="threads.prune_pending_attachments",
            func=attachments.prune_pending,
            trigger="interval",
            trigger_args={"hours": 1},
            misfire_grace_time=3600,
        ),
    ]
