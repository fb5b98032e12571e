"""Urgent rows leave right after the transaction that wrote them commits (serve and worker).

The dispatcher (dispatcher.py) claims and sends; this listens for commits that wrote urgent
outbox rows and hands them to a small pool, in shares that each use their own SMTP connection.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from forum.extensions import db
from forum.notify import outbox
from forum.notify.dispatcher import dispatch_ids

log = logging.getLogger(__name__)

# Below this many rows a share is not worth its own SMTP connection.
URGENT_MIN_SHARE = 25


class UrgentDispatch:
    """Sends urgent rows right after the transaction that wrote them commits (serve and worker)."""

    def __init__(self, app: Flask, workers: int = 4) -> None:
        self.app = app
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="urgent-dispatch")
        self._connected = False

    def start(self) -> None:
        """Listen for commits that wrote urgent outbox rows."""
        outbox.committed.connect(self._on_commit, weak=False)
        self._connected = True

    def _on_commit(self, _sender: object, **kwargs: Any) -> None:
        ids = list(kwargs.get("urgent_outbox_ids") or ())
        # One share per pool worker: each sends over its own SMTP connection, in parallel.
        shares = max(1, min(self.workers, len(ids) // URGENT_MIN_SHARE))
        for share in range(shares):
            part = ids[share::shares]
            if part:
                self.pool.submit(self._run, part)

    def _run(self, ids: list[str]) -> None:
        with self.app.app_context():
            try:
                result = dispatch_ids(ids)
                log.info("urgent dispatch: %d sent of %d", result.sent, len(ids))
            except Exception as error:
                db.session.rollback()
                # Only the type: an exception's text may carry an address or a body.
                log.error(
                    "urgent dispatch of %d rows failed (%s); the sweep will retry",
                    len(ids),
                    type(error).__name__,
                )
            finally:
                db.session.remove()

    def stop(self) -> None:
        """Stop listening and wait for sends in flight."""
        if self._connected:
            outbox.committed.disconnect(self._on_commit)
            self._connected = False
        self.pool.shutdown(wait=True)
