"""Live events: content-free "something changed" rows, written in the transaction of the event
and announced to this process's listeners once it commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, event, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from forum.db import SCRATCH_KEY, UTCDateTime, after_commit, pending, utcnow
from forum.extensions import db
from forum.notify import outbox

PENDING_KEY = "exchange.live.pending"
PG_CHANNEL = "exchange_live"
NOTIFICATIONS = "notifications"

# Called after a commit that wrote live events (the channel wakes its listeners).
_on_written: list[Callable[[], None]] = []


def on_written(callback: Callable[[], None]) -> None:
    """Call `callback` after every commit that wrote live events in this process."""
    _on_written.append(callback)


def _wake_all() -> None:
    for callback in list(_on_written):
        callback()


class LiveEvent(db.Model):  # type: ignore[name-defined]
    """A content-free "something changed" row; kept a few minutes, then pruned."""

    __tablename__ = "live_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<LiveEvent {self.id} {self.topic}>"


# --- publishing (in the transaction of the event) ------------------------------------------


def publish(topic: str) -> None:
    """Announce that `topic` changed, when the current transaction commits."""
    topics: set[str] = pending(PENDING_KEY, set)
    topics.add(topic)


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    topics: set[str] = set(session.info.get(SCRATCH_KEY, {}).get(PENDING_KEY, ()))
    notified = outbox.pending_in(session)
    if notified is not None and notified.member_ids:
        topics.add(NOTIFICATIONS)
    if not topics:
        return
    after_commit(_wake_all, once=PENDING_KEY, session=session)
    now = utcnow()
    session.execute(insert(LiveEvent), [{"topic": t, "created_at": now} for t in sorted(topics)])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": PG_CHANNEL})


def prune(older_than: timedelta = timedelta(minutes=10)) -> int:
    """Delete live events older than a few minutes (the caller commits).

    The newest event always stays: SQLite numbers a row max(id) + 1, so an emptied table would
    start again at 1 and every listener, whose cursor is at the old highest id, would pass over
    the next events (an urgent alert after a quiet night) until the ids caught up."""
    newest = select(func.max(LiveEvent.id)).scalar_subquery()
    result = db.session.execute(
        delete(LiveEvent).where(LiveEvent.created_at < utcnow() - older_than, LiveEvent.id < newest)
    )
    return int(getattr(result, "rowcount", 0) or 0)
