"""SQLite writers of one process queue for the write lock (forum.db.WriterQueue): many writers at
once all get their turn, and a writer that fails, rolls back or loses its connection gives the
turn back, so the next one never waits for a lock nobody holds."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, event, text

from forum.db import WriterQueue
from forum.extensions import db


@pytest.fixture
def backend() -> str:
    """SQLite only: the queue is SQLite's (PostgreSQL locks rows, not the whole database)."""
    return "sqlite"


@pytest.fixture
def queue(app) -> WriterQueue:
    with app.app_context():
        db.session.execute(text("CREATE TABLE IF NOT EXISTS queue_probe (n INTEGER)"))
        db.session.commit()
    return app.extensions[WriterQueue.EXTENSION_KEY]


def _write(app, n: int) -> None:
    with app.app_context():
        with db.engine.connect().execution_options(sqlite_immediate=True) as connection:
            with connection.begin():
                connection.execute(text("INSERT INTO queue_probe (n) VALUES (:n)"), {"n": n})


def test_many_writers_at_once_all_write_and_leave_the_queue_free(app, queue):
    failures: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for n in range(start, start + 25):
                _write(app, n)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    workers = [threading.Thread(target=writer, args=(k * 100,)) for k in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not failures
    with app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM queue_probe")) == 200
    assert not queue._lock.locked()


def test_a_failed_write_gives_the_turn_back(app, queue):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with db.engine.connect().execution_options(sqlite_immediate=True) as connection:
                with connection.begin():
                    connection.execute(text("INSERT INTO queue_probe (n) VALUES (1)"))
                    raise RuntimeError("the service refused")
    assert not queue._lock.locked()
    assert queue._lock.acquire(blocking=False)  # the next writer gets it at once
    queue._lock.release()


def test_a_request_that_writes_then_refuses_gives_the_turn_back(app, queue):
    with app.test_request_context("/", method="POST"):
        from forum.db import write_lock

        write_lock()
        assert queue._lock.locked()
        db.session.execute(text("INSERT INTO queue_probe (n) VALUES (2)"))
        db.session.rollback()
        assert not queue._lock.locked()
        write_lock()
        db.session.execute(text("INSERT INTO queue_probe (n) VALUES (3)"))
        db.session.commit()
        assert not queue._lock.locked()
        write_lock()  # a transaction left open is ended when the session goes
        db.session.remove()
    assert not queue._lock.locked()


def test_a_lost_connection_gives_the_turn_back(app, queue):
    with app.app_context():
        connection = db.engine.connect().execution_options(sqlite_immediate=True)
        transaction = connection.begin()
        assert queue._lock.locked()
        connection.invalidate()  # the database went away mid-write
        assert not queue._lock.locked()
        transaction.rollback()
        connection.close()
    assert not queue._lock.locked()


def test_a_turn_never_given_back_only_delays_the_next_writer():
    stuck = WriterQueue(wait_seconds=0.05)
    held, late = object(), object()
    stuck.enter(held)  # a writer whose turn was lost
    stuck.enter(late)  # waits its bounded time, then goes on without the queue
    assert not stuck.holds(late)
    stuck.leave(late)  # nothing to give back
    assert stuck._lock.locked()
    stuck.leave(held)
    assert not stuck._lock.locked()


def test_the_turn_is_given_back_only_after_sqlite_committed(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    queue = WriterQueue(wait_seconds=5)
    seen: list[bool] = []
    sqlite_commit = engine.dialect.do_commit
    engine.dialect.do_commit = lambda c: (seen.append(queue._lock.locked()), sqlite_commit(c))
    queue.install(engine)

    @event.listens_for(engine, "connect")
    def _explicit_begin(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _immediate(connection):
        queue.enter(connection.connection)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE probe (n INTEGER)")
    assert seen == [True]  # while SQLite committed, the turn was still this writer's
    assert not queue._lock.locked()
    engine.dispose()
