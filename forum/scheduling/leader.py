"""One scheduler per deployment: whoever holds the leader lock runs the jobs.

PostgreSQL: a session-level advisory lock on a dedicated connection held for the life of the
process (it is released by the server the moment that process or its connection dies).
SQLite: an exclusive file lock in the instance folder (released by the kernel on exit).
A process without the lock stays idle and tries again every `scheduler.lock_retry_seconds`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from forum.scheduling.runtime import DeliveryRuntime

log = logging.getLogger(__name__)

# A fixed 64-bit key for pg_try_advisory_lock, derived from a name so it is easy to recognise.
ADVISORY_KEY = int.from_bytes(
    hashlib.sha256(b"invictm-exchange.scheduler").digest()[:8], "big", signed=True
)


class LeaderLock:
    """A lock that at most one process of a deployment holds."""

    def acquire(self) -> bool:
        """Try once, without waiting; True when this process now holds the lock."""
        raise NotImplementedError

    def still_held(self) -> bool:
        """True while the lock is still this process's (its connection is alive)."""
        raise NotImplementedError

    def release(self) -> None:
        """Let go of the lock (another process may take it)."""
        raise NotImplementedError


class PostgresLeaderLock(LeaderLock):
    """pg_try_advisory_lock on a dedicated connection (outside the pool)."""

    def __init__(self, url: str, key: int = ADVISORY_KEY) -> None:
        self.engine: Engine = create_engine(url, poolclass=NullPool)
        self.key = key
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
            held = bool(
                self.connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                ).scalar()
            )
            self.connection.commit()  # never sit "idle in transaction"
        except SQLAlchemyError:
            log.warning("cannot reach PostgreSQL to take the scheduler lock; will retry")
            self._drop()
            return False
        return held

    def still_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            count = self.connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objsubid = 1 AND pid = pg_backend_pid() AND granted "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": self.key},
            ).scalar()
            self.connection.commit()
        except SQLAlchemyError:
            self._drop()
            return False
        return bool(count)

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                self.connection.commit()
            except SQLAlchemyError:
                pass
        self._drop()
        self.engine.dispose()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except SQLAlchemyError:
                pass
            self.connection = None


class FileLeaderLock(LeaderLock):
    """An exclusive, non-blocking flock on a file in the instance folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] | None = None

    def acquire(self) -> bool:
        if self.handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - held for the process
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return True

    def still_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def leader_lock(app: Flask) -> LeaderLock:
    """The lock that fits the app's database."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgresql"):
        return PostgresLeaderLock(url)
    return FileLeaderLock(Path(app.instance_path) / "scheduler.lock")


def run_as_leader(
    app: Flask,
    stop: threading.Event,
    *,
    lock: LeaderLock | None = None,
    say: Callable[[str], Any] = log.info,
) -> None:
    """Until `stop` is set: wait for the lock, run the scheduler while holding it, and fall back
    to waiting if the lock is lost (its database connection died)."""
    lock = lock or leader_lock(app)
    retry = app.config["EXCHANGE"]["scheduler"]["lock_retry_seconds"]
    runtime = DeliveryRuntime(app)
    waiting_said = False
    try:
        while not stop.is_set():
            if not lock.acquire():
                if not waiting_said:
                    say("Another process runs the scheduler; this one waits (standby).")
                    waiting_said = True
                stop.wait(retry)
                continue
            say(f"This process (pid {os.getpid()}) holds the scheduler lock and runs the jobs.")
            waiting_said = False
            runtime.start()
            while not stop.wait(retry):
                if not lock.still_held():
                    say("The scheduler lock was lost; stopping jobs and waiting to take it again.")
                    break
            runtime.stop()
            lock.release()
    finally:
        runtime.stop()
        lock.release()
