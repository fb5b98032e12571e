"""The live channel's hub and listener: one listener per process reads new live events and fans
them out in memory to the pages connected to this process (see forum.notify.live)."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from forum.extensions import db
from forum.notify import outbox
from forum.notify.live import events
from forum.notify.live.events import NOTIFICATIONS, PG_CHANNEL, LiveEvent
from forum.notify.live.topics import describe
from forum.notify.models import Notification

log = logging.getLogger(__name__)

# How far back the listener re-reads ids: on PostgreSQL a transaction that took an id earlier
# may commit after a later one; re-reading a window (and skipping ids seen) catches it.
LOOKBACK_IDS = 500
# Notifications created up to this long before the event that announced them are looked at.
NOTIFICATION_WINDOW = timedelta(minutes=2)
# Set by the ASGI front (forum/ops/asgi.py): the stream is then served on its event loop.
ASYNC_WAKE = "exchange.live.wake"
ASYNC_SUBSCRIBER = "exchange.live.subscriber"


@dataclass(eq=False)
class Subscriber:
    """One open page: its member, the topics it watches, and its queue of events."""

    member_id: str
    topics: tuple[str, ...]
    queue: queue.SimpleQueue[tuple[str, str] | None] = field(default_factory=queue.SimpleQueue)
    # Called after each put when the page is served on an event loop (thread-safe wake-up).
    wake: Callable[[], None] | None = None

    def push(self, item: tuple[str, str] | None) -> None:
        """Queue an event for this page and wake whoever serves it."""
        self.queue.put(item)
        if self.wake is not None:
            self.wake()


class Hub:
    """The pages connected to this process, by member and by topic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._members: dict[str, set[Subscriber]] = {}
        self._topics: dict[str, set[Subscriber]] = {}

    def add(self, subscriber: Subscriber, limit: int | None = None) -> bool:
        """Register an open page; False (and nothing added) when its member holds `limit`."""
        with self._lock:
            pages = self._members.setdefault(subscriber.member_id, set())
            if limit is not None and len(pages) >= limit:
                if not pages:
                    del self._members[subscriber.member_id]
                return False
            pages.add(subscriber)
            for topic in subscriber.topics:
                self._topics.setdefault(topic, set()).add(subscriber)
            return True

    def remove(self, subscriber: Subscriber) -> None:
        with self._lock:
            for index, key in [(self._members, subscriber.member_id)] + [
                (self._topics, t) for t in subscriber.topics
            ]:
                group = index.get(key)
                if group is not None:
                    group.discard(subscriber)
                    if not group:
                        del index[key]

    def member_ids(self) -> list[str]:
        with self._lock:
            return list(self._members)

    def count(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._members.values())

    def to_member(self, member_id: str, name: str, data: str) -> None:
        with self._lock:
            targets = list(self._members.get(member_id, ()))
        for subscriber in targets:
            subscriber.push((name, data))

    def to_topic(self, topic: str, name: str, data: str) -> None:
        with self._lock:
            targets = list(self._topics.get(topic, ()))
        for subscriber in targets:
            subscriber.push((name, data))


# --- the listener (one per process and app) -------------------------------------------------


class Listener:
    """Reads new live events and fans them out to this process's connected pages."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.hub = Hub()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cursor = 0
        self._seen_events: OrderedDict[int, None] = OrderedDict()
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._threads: list[threading.Thread] = []
        settings = app.config["EXCHANGE"]["server"]
        self.poll_seconds = settings["live_poll_ms"] / 1000
        self.is_postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")

    def wake(self) -> None:
        """Look for new events now (a commit in this process wrote some)."""
        self._wake.set()

    def start(self) -> None:
        """Start the listener thread (and, on PostgreSQL, the LISTEN thread)."""
        with self.app.app_context():
            self._cursor = int(db.session.scalar(select(func.max(LiveEvent.id))) or 0)
            db.session.remove()
        loop = threading.Thread(target=self._run, name="live-listener", daemon=True)
        self._threads.append(loop)
        if self.is_postgres:
            self._threads.append(
                threading.Thread(target=self._listen_postgres, name="live-pg-listen", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the threads (tests and shutdown)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self.app.app_context():
                    try:
                        self.cycle()
                    finally:
                        db.session.remove()
            except Exception:  # the loop must survive a database hiccup
                log.exception("live listener cycle failed; retrying")
                self._stop.wait(1.0)

    def _listen_postgres(self) -> None:
        # One connection per process waits for NOTIFY; pages never hold one. Imported here:
        # a process on SQLite never loads the driver (9 MB of a web process, issue 14).
        import psycopg

        url = self.app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg", "postgresql")
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {PG_CHANNEL}")
                    while not self._stop.is_set():
                        for _note in connection.notifies(timeout=1.0, stop_after=1):
                            self._wake.set()
            except Exception:
                log.warning("live LISTEN connection lost; polling until it is back")
                self._stop.wait(2.0)

    def cycle(self) -> int:
        """Read new events once and deliver them; returns how many events were new."""
        # SQLite commits one writer at a time, in id order, and its ids never go back (pruning
        # keeps the newest event): nothing to look back for, so a poll reads only what is new
        # and can run often (server.live_poll_ms, 50 ms).
        low = max(0, self._cursor - LOOKBACK_IDS) if self.is_postgres else self._cursor
        rows = db.session.execute(
            select(LiveEvent.id, LiveEvent.topic, LiveEvent.created_at)
            .where(LiveEvent.id > low)
            .order_by(LiveEvent.id)
            .limit(2000)
        ).all()
        fresh = [row for row in rows if row.id not in self._seen_events]
        if not fresh:
            return 0
        for row in fresh:
            self._seen_events[row.id] = None
            self._cursor = max(self._cursor, row.id)
        while len(self._seen_events) > 4 * LOOKBACK_IDS:
            self._seen_events.popitem(last=False)
        announced = [row.created_at for row in fresh if row.topic == NOTIFICATIONS]
        if announced:
            self._deliver_notifications(min(announced) - NOTIFICATION_WINDOW)
        for row in fresh:
            if row.topic != NOTIFICATIONS:
                self.hub.to_topic(row.topic, "topic", json.dumps({"topic": row.topic}))
        return len(fresh)

    def _deliver_notifications(self, since: datetime) -> None:
        connected = self.hub.member_ids()
        for start in range(0, len(connected), 500):
            chunk = connected[start : start + 500]
            found = db.session.scalars(
                select(Notification)
                .where(
                    Notification.member_id.in_(chunk),
                    Notification.read_at.is_(None),
                    Notification.created_at >= since,
                )
                .order_by(Notification.created_at)
            ).all()
            for notification in found:
                if notification.id in self._delivered:
                    continue
                self._delivered[notification.id] = None
                self.hub.to_member(
                    notification.member_id, "notification", json.dumps(describe(notification))
                )
        while len(self._delivered) > 50_000:
            self._delivered.popitem(last=False)


_listeners: dict[int, Listener] = {}
_listeners_lock = threading.Lock()


def listener_for(app: Flask) -> Listener:
    """This process's listener for the app, started on first use (never at import)."""
    with _listeners_lock:
        listener = _listeners.get(id(app))
        if listener is None:
            listener = _listeners[id(app)] = Listener(app)
            listener.start()
        return listener


def stop_listener(app: Flask) -> None:
    """Stop and forget the app's listener, if one runs."""
    with _listeners_lock:
        listener = _listeners.pop(id(app), None)
    if listener is not None:
        listener.stop()


@outbox.committed.connect
def _on_committed(_sender: Any, **_kwargs: Any) -> None:
    for listener in list(_listeners.values()):
        listener.wake()


def format_event(name: str, data: str) -> str:
    """One server-sent event."""
    return f"event: {name}\ndata: {data}\n\n"


def _wake_listeners() -> None:
    for listener in list(_listeners.values()):
        listener.wake()


events.on_written(_wake_listeners)
