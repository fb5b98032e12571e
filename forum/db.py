"""The database kit: ids, UTC timestamps, the request's unit of work, "after commit" and the
SQLite write lock. Every feature uses these; none builds its own."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import g
from sqlalchemy import DateTime, LargeBinary, event
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from forum.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")

ID_LENGTH = 32


def new_id() -> str:
    """A random 128-bit id as 32 hex characters, made before insert (sealing needs it)."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every database and always returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use forum.db.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


Sealed = LargeBinary
"""The column type of a sealed (AES-256-GCM) field; such columns end in `_sealed`."""


# --- after commit ----------------------------------------------------------------------------
# Work that must happen only once the transaction is durable (announce outbox rows, wake live
# pages, delete a dropped attachment's file) is queued on the session and run after its commit;
# a rollback forgets it. Per-transaction scratch (`pending`) lives and dies the same way.

CALLBACKS_KEY = "exchange.after_commit"
SCRATCH_KEY = "exchange.pending"


def after_commit(
    callback: Callable[[], object], *, once: str | None = None, session: Any = None
) -> None:
    """Run `callback` after the current transaction commits (never if it rolls back).

    With `once`, a second callback under the same name in the same transaction is not queued.
    """
    session = session if session is not None else db.session()
    if not session.in_transaction():
        session.begin()  # so a rollback before any SQL still forgets the callback
    info = session.info
    queued: dict[object, Callable[[], object]] = info.setdefault(CALLBACKS_KEY, {})
    queued.setdefault(once if once is not None else object(), callback)


def pending(key: str, factory: Callable[[], T], *, session: Any = None) -> T:
    """Scratch for the current transaction under `key`, made by `factory` on first use and
    dropped when the transaction ends either way."""
    session = session if session is not None else db.session()
    if not session.in_transaction():
        session.begin()
    info = session.info
    scratch: dict[str, Any] = info.setdefault(SCRATCH_KEY, {})
    if key not in scratch:
        scratch[key] = factory()
    return scratch[key]


COMMITTED_KEY = "exchange.after_commit.committed"


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # The transaction is durable; its follow-ups run once it has also given its connection
    # back (below): a follow-up that opens a connection of its own (the read marker, the
    # minutes' audit) while the request still held one took two from the pool, and sixteen
    # page threads on a pool of fifteen waited on each other until the pool's 30 s timeout.
    session.info[COMMITTED_KEY] = session.info.pop(CALLBACKS_KEY, {})
    session.info.pop(SCRATCH_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    # Nothing outlives the outermost transaction (a savepoint ending is not the transaction
    # ending): after a rollback or close its follow-ups are forgotten; after a commit they run
    # now, its connection back in the pool.
    if transaction.parent is not None:
        return
    callbacks = session.info.pop(COMMITTED_KEY, {})
    session.info.pop(CALLBACKS_KEY, None)
    session.info.pop(SCRATCH_KEY, None)
    for callback in callbacks.values():
        try:
            callback()
        except Exception:  # the commit happened; one failed follow-up must not hide it
            log.exception("an after-commit step failed")


# --- the SQLite write lock ------------------------------------------------------------------


def write_lock() -> None:
    """Begin the session's writing transaction now (BEGIN IMMEDIATE on SQLite).

    Whatever the session read so far is ended first: on SQLite a read transaction cannot turn
    into a write one once another writer has committed, so writes start with the lock.
    """
    if db.session().in_transaction():
        db.session.rollback()
    if db.engine.dialect.name == "sqlite":
        db.session.connection(execution_options={"sqlite_immediate": True})


@contextmanager
def write_lock_released() -> Iterator[None]:
    """Run slow work (a password hash) holding no database lock, then take the lock again.

    The transaction is ended on entry, so nothing written before it may be pending.
    """
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("write_lock_released() with unflushed changes would lose them")
    db.session.rollback()
    try:
        yield
    finally:
        write_lock()


class WriterQueue:
    """Writers of one process wait for SQLite's write lock in a queue, not in SQLite.

    SQLite's busy handler makes a writer that finds the lock taken sleep 1, 2, 5 … up to 100 ms
    between tries, so under a mixed load writers queue by luck and a reply waited seconds while
    the lock was free most of the time (issue 14: writers waited 206 s in total in 20 s). Here
    a write transaction first takes this process's turn (waiting threads are woken the moment
    it is given back), then BEGIN IMMEDIATE; the turn is given back once SQLite has committed
    or rolled back, or when the connection goes back to the pool or is invalidated. Between
    processes SQLite's own handler still decides, with one waiter per process at most.
    """

    EXTENSION_KEY = "exchange.writer_queue"

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._holder: int | None = None  # id() of the DBAPI connection whose turn it is

    @staticmethod
    def _raw(connection: Any) -> Any:
        """The DBAPI connection behind a pool's proxy (the same object every event names)."""
        return getattr(connection, "dbapi_connection", None) or connection

    def enter(self, connection: Any) -> None:
        """Wait for this process's turn to write (give up waiting after wait_seconds and let
        SQLite's busy timeout decide, so a lost turn can never stop every writer)."""
        if self._lock.acquire(timeout=self.wait_seconds):
            self._holder = id(self._raw(connection))
        else:
            log.warning(
                "waited %ss for the write queue; trying SQLite's lock directly", self.wait_seconds
            )

    def leave(self, connection: Any) -> None:
        """This connection's transaction ended: the next writer's turn."""
        if self._holder is not None and self._holder == id(self._raw(connection)):
            self._holder = None
            self._lock.release()

    def holds(self, connection: Any) -> bool:
        """Whether it is this connection's turn (for tests)."""
        return self._holder == id(self._raw(connection))

    def install(self, engine: Any) -> None:
        """Hook the queue into an engine whose write transactions say `sqlite_immediate`.

        The dialect's own commit and rollback are wrapped (SQLAlchemy's commit event fires
        before the COMMIT runs): the turn goes to the next writer only after SQLite let go."""
        dialect = engine.dialect
        real_commit, real_rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            real_commit(dbapi_connection)
            self.leave(dbapi_connection)  # a failed COMMIT keeps the turn until the rollback

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                real_rollback(dbapi_connection)
            finally:
                self.leave(dbapi_connection)

        dialect.do_commit = do_commit
        dialect.do_rollback = do_rollback

        @event.listens_for(engine, "checkin")
        def _returned(dbapi_connection: Any, _record: Any) -> None:
            self.leave(dbapi_connection)

        @event.listens_for(engine, "invalidate")
        def _invalidated(dbapi_connection: Any, _record: Any, _error: Any) -> None:
            self.leave(dbapi_connection)


# --- the request's unit of work ---------------------------------------------------------------

KEEP_KEY = "exchange_keep_on_refusal"


def keep_on_refusal() -> None:
    """Commit this request's writes even though it answers with a refusal or an error page
    (a failed sign-in is counted; a lockout must not be undone by the 401 that reports it)."""
    setattr(g, KEEP_KEY, True)


def finish_request(status: int) -> None:
    """Commit a request that succeeded (status below 400), roll back one that did not."""
    if status < 400 or g.get(KEEP_KEY):
        db.session.commit()
    else:
        db.session.rollback()


def end_refused_request() -> None:
    """A request ended by a domain error: roll back, unless its writes were kept on purpose."""
    if g.get(KEEP_KEY):
        db.session.commit()
    else:
        db.session.rollback()
