"""The live channel: open pages learn of new notifications and watched topics without a reload.

Shape (one web process):
- Each open page holds one server-sent-events stream: one TCP connection and no database
  connection. Under `exchange serve` and the scaled-out gunicorn (the ASGI front,
  forum/ops/asgi.py) the view below only authorises the stream; the event loop then serves it,
  so an open page holds no thread. Elsewhere (the test client, a plain WSGI server) the view's
  generator serves it from its thread. Either way the page waits on an in-memory queue, gets a
  heartbeat every `server.live_heartbeat_seconds` so a dead client fails a write, and the
  stream ends after `server.live_stream_seconds` (the browser reconnects and re-authenticates).
- A member holds at most `server.live_streams_per_member` streams per process; one more is
  refused (204: EventSource does not reconnect) and that page polls instead.
- One background listener thread per process reads new rows of `live_events` (a tiny,
  content-free table with an increasing id, written in the transaction of the event) and fans
  out in memory to the pages connected to this process. It is woken at once by a commit in the
  same process, by PostgreSQL LISTEN/NOTIFY from other processes, and otherwise polls.
- Events carry nothing confidential in the table: "notifications" (then the listener reads the
  new unread notifications of connected members only and sends each page its own) or a topic
  such as "alert:<id>" that pages watching it (authorised by the feature) refresh on.

This module is platform code: it imports no feature. Features authorise topic watching by
registering a function with `register_watch(prefix, allowed)`.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask_login import current_user, login_required
from sqlalchemy import Integer, String, delete, event, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from forum.db import UTCDateTime, utcnow
from forum.extensions import db
from forum.notify import outbox
from forum.notify.models import Notification

log = logging.getLogger(__name__)

PENDING_KEY = "exchange.live.pending"
PG_CHANNEL = "exchange_live"
NOTIFICATIONS = "notifications"
# How far back the listener re-reads ids: on PostgreSQL a transaction that took an id earlier
# may commit after a later one; re-reading a window (and skipping ids seen) catches it.
LOOKBACK_IDS = 500
# Notifications created up to this long before the event that announced them are looked at.
NOTIFICATION_WINDOW = timedelta(minutes=2)
MAX_WATCH = 5
# Set by the ASGI front (forum/ops/asgi.py): the stream is then served on its event loop.
ASYNC_WAKE = "exchange.live.wake"
ASYNC_SUBSCRIBER = "exchange.live.subscriber"


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
    topics: set[str] = db.session.info.setdefault(PENDING_KEY, set())
    topics.add(topic)


@event.listens_for(Session, "before_commit")
def _write_events(session: Session) -> None:
    topics: set[str] = set(session.info.get(PENDING_KEY, ()))
    notified = session.info.get(outbox.PENDING_KEY)
    if notified is not None and notified.member_ids:
        topics.add(NOTIFICATIONS)
    if not topics:
        return
    session.info[PENDING_KEY] = topics
    now = utcnow()
    session.execute(insert(LiveEvent), [{"topic": t, "created_at": now} for t in sorted(topics)])
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": PG_CHANNEL})


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    if session.info.pop(PENDING_KEY, None):
        for listener in list(_listeners.values()):
            listener.wake()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def prune(older_than: timedelta = timedelta(minutes=10)) -> int:
    """Delete live events older than a few minutes (the caller commits)."""
    result = db.session.execute(
        delete(LiveEvent).where(LiveEvent.created_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- topic authorisation (features register) ------------------------------------------------

_watch_rules: dict[str, Callable[[Any, str], bool]] = {}


def register_watch(prefix: str, allowed: Callable[[Any, str], bool]) -> None:
    """Let pages watch topics "<prefix>:<ref>" when allowed(member, ref) says so."""
    _watch_rules[prefix] = allowed


def _allowed_topics(member: Any, wanted: list[str]) -> list[str]:
    allowed: list[str] = []
    for topic in wanted[:MAX_WATCH]:
        prefix, _, ref = topic.partition(":")
        rule = _watch_rules.get(prefix)
        if rule is not None and ref and rule(member, ref):
            allowed.append(topic)
    return allowed


# --- the in-memory hub ------------------------------------------------------------------------


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
        # One connection per process waits for NOTIFY; pages never hold one.
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
        low = max(0, self._cursor - LOOKBACK_IDS)
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


def describe(notification: Notification) -> dict[str, Any]:
    """What a page receives about one of its member's notifications."""
    try:
        body = outbox.notification_text(notification)
    except Exception:  # a shredded object: say only that something happened
        body = "New notification"
    return {
        "id": notification.id,
        "kind": notification.kind,
        "text": body,
        "link": notification.link,
        "urgent": bool(notification.is_urgent),
        "created_at": notification.created_at.isoformat(),
    }


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


# --- routes ---------------------------------------------------------------------------------

bp = Blueprint("live", __name__, url_prefix="/live")


def format_event(name: str, data: str) -> str:
    """One server-sent event."""
    return f"event: {name}\ndata: {data}\n\n"


def stream_events(
    subscriber: Subscriber, hub: Hub, heartbeat: float, lifetime: float
) -> Iterator[str]:
    """The SSE body of one page: events as they come, heartbeats between, then it ends."""
    try:
        yield "retry: 2000\n: connected\n\n"
        deadline = time.monotonic() + lifetime
        while time.monotonic() < deadline:
            try:
                item = subscriber.queue.get(timeout=min(heartbeat, deadline - time.monotonic()))
            except queue.Empty:
                yield ": heartbeat\n\n"
                continue
            if item is None:
                return
            yield format_event(*item)
    finally:
        hub.remove(subscriber)


def _limit_unacknowledged(heartbeat: float) -> None:
    """A page whose network vanished (no FIN, no RST) would keep its thread until TCP gives up
    (~15 minutes); TCP_USER_TIMEOUT makes the kernel fail the write after three heartbeats."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if sock is None or option is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, option, int(heartbeat * 3 * 1000))
    except OSError:
        log.debug("TCP_USER_TIMEOUT not available on this socket")


@bp.get("/stream")
@login_required
def stream() -> Response:
    """Server-sent events for the signed-in member's open page."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    listener = listener_for(app)
    topics = _allowed_topics(current_user, request.args.getlist("watch"))
    wake = request.environ.get(ASYNC_WAKE)
    subscriber = Subscriber(member_id=current_user.id, topics=tuple(topics), wake=wake)
    settings = app.config["EXCHANGE"]["server"]
    if not listener.hub.add(subscriber, limit=int(settings["live_streams_per_member"])):
        # 204 is how the SSE standard tells EventSource to stop reconnecting: the page's error
        # handler then polls (static/live.js), and the console shows no failed request.
        refused = Response(status=204)
        return refused
    if wake is not None:  # the ASGI front serves the stream on its event loop
        request.environ[ASYNC_SUBSCRIBER] = (subscriber, listener.hub)
        accepted = Response(mimetype="text/event-stream")
        accepted.headers["X-Accel-Buffering"] = "no"
        accepted.headers["Cache-Control"] = "no-store"
        return accepted
    _limit_unacknowledged(float(settings["live_heartbeat_seconds"]))
    body = stream_events(
        subscriber,
        listener.hub,
        float(settings["live_heartbeat_seconds"]),
        float(settings["live_stream_seconds"]),
    )
    # The database session is released when this view returns: the stream holds none.
    response = Response(body, mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    return response


@bp.get("/poll")
@login_required
def poll() -> Response:
    """The fallback when the stream is down: unread count and unread urgent notifications."""
    unread = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == current_user.id, Notification.read_at.is_(None))
    )
    urgent = db.session.scalars(
        select(Notification)
        .where(
            Notification.member_id == current_user.id,
            Notification.read_at.is_(None),
            Notification.is_urgent.is_(True),
            Notification.created_at >= utcnow() - timedelta(days=7),
        )
        .order_by(Notification.created_at.desc())
        .limit(5)
    ).all()
    return jsonify(unread=int(unread or 0), urgent=[describe(n) for n in reversed(urgent)])
