"""Calls: filling the horizon for 100 monthly series over 12 months, and the reminder sweep with
10,000 due reminders — time and SQL statements per reminder — each against a baseline measured
in the same run on the same SQLite database:

* horizon fill vs. a bare executemany INSERT of the same occurrence and reminder rows;
* reminder sweep vs. calling notify() directly for the same reminders (the platform's own cost
  of writing sealed in-app rows and outbox rows), so the ratio is the sweep's overhead.

Run: python bench/calls_sweeps.py   (about a minute; loopback only; starts no process)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepare_instance  # noqa: E402
from figures import figure  # noqa: E402
from sqlalchemy import event, func, select, text, update  # noqa: E402

from forum.calls import reminders, services  # noqa: E402
from forum.calls.models import CallSeries, Occurrence, Reminder  # noqa: E402
from forum.db import new_id  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members import services as member_services  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.notify.outbox import notify  # noqa: E402

SERIES = 100
WEEKLY_SERIES = 100
DUE = 10_000
MEMBERS = 5
BASELINE_SAMPLE = 1000  # notify() alone, per reminder, measured on a sample to bound the run
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class StatementCounter:
    """Counts SQL statements sent to the database (before_cursor_execute)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1


def fields(n: int, pattern: str) -> services.SeriesFields:
    return services.SeriesFields(
        title=f"Bench call {n}",
        timezone=("Europe/Brussels", "America/New_York", "Australia/Sydney", "Asia/Kolkata")[n % 4],
        time_of_day=f"{8 + n % 10:02d}:00",
        pattern=pattern,
        ordinal=1 + n % 4,
        weekday=n % 7,
        starts_at=NOW,
        joining_details="https://meet.example.org/bench",
    )


def timed(counter: StatementCounter, work: object) -> tuple[float, int, object]:
    before = counter.count
    started = time.perf_counter()
    result = work()  # type: ignore[operator]
    db.session.commit()
    return time.perf_counter() - started, counter.count - before, result


def bench_horizon(counter: StatementCounter, actor: object) -> None:
    series = [
        services.create_series(actor=actor, fields=fields(n, "nth_weekday"), now=NOW)
        for n in range(SERIES)
    ]
    db.session.commit()
    ids = [s.id for s in series]
    # Start from empty horizons: the job's real work is filling them.
    db.session.execute(text("DELETE FROM call_reminders"))
    db.session.execute(text("DELETE FROM call_occurrences"))
    db.session.execute(update(CallSeries).values(filled_until_at=None))
    db.session.commit()
    seconds, statements, created = timed(counter, lambda: services.fill_all_horizons(now=NOW))
    again, again_statements, created_again = timed(
        counter, lambda: services.fill_all_horizons(now=NOW)
    )
    rows = db.session.scalar(select(func.count()).select_from(Reminder))
    print(
        f"horizon: {created} occurrences and {rows} reminders for {SERIES} series in {seconds:.2f} s "
        f"({statements} statements); second run created {created_again} in {again:.3f} s "
        f"({again_statements} statements)"
    )
    # Baseline: the same number of rows written by a bare executemany INSERT.
    occurrence_rows = [
        {
            "id": new_id(),
            "series_id": ids[i % SERIES],
            "slot_at": (NOW + timedelta(days=400 + i)),
            "position": i,
            "starts_at": NOW,
            "ends_at": NOW,
            "status": "scheduled",
            "is_modified": False,
            "sequence": 0,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i in range(int(created))  # type: ignore[call-overload]
    ]
    reminder_rows = [
        {
            "id": new_id(),
            "occurrence_id": occurrence_rows[i // 2]["id"],
            "offset_minutes": 60 + i % 2,
            "due_at": NOW,
            "status": "pending",
        }
        for i in range(rows or 0)
    ]
    connection = db.session.connection()
    started = time.perf_counter()
    connection.execute(Occurrence.__table__.insert(), occurrence_rows)
    connection.execute(Reminder.__table__.insert(), reminder_rows)
    db.session.commit()
    bare = time.perf_counter() - started
    figure(
        f"calls: fill horizon, {SERIES} series x 12 months ({created} occurrences)",
        seconds,
        "bare executemany INSERT of the same rows",
        bare,
        "s",
        higher_is_better=False,
    )
    figure(
        "calls: fill horizon, SQL statements per occurrence",
        statements / max(1, int(created)),  # type: ignore[call-overload]
        "one statement per occurrence",
        1.0,
        "statements",
        higher_is_better=False,
    )
    db.session.execute(text("DELETE FROM call_reminders"))
    db.session.execute(text("DELETE FROM call_occurrences"))
    db.session.commit()


def bench_reminders(counter: StatementCounter, actor: object, members: list[object]) -> None:
    for n in range(WEEKLY_SERIES):
        services.create_series(actor=actor, fields=fields(n, "weekly"), now=NOW)
    db.session.commit()
    pending = db.session.scalar(select(func.count()).select_from(Reminder))
    ids = db.session.scalars(select(Reminder.id).order_by(Reminder.due_at).limit(DUE)).all()
    sweep_at = NOW + timedelta(minutes=1)
    for chunk in range(0, len(ids), 900):
        db.session.execute(
            update(Reminder).where(Reminder.id.in_(ids[chunk : chunk + 900])).values(due_at=NOW)
        )
    db.session.commit()
    print(f"reminders: {pending} planned, {len(ids)} made due, {MEMBERS + 1} active members")
    seconds, statements, result = timed(
        counter, lambda: reminders.sweep_until_done(now=sweep_at, batch_size=1000, max_batches=50)
    )
    sent = len(result.sent)  # type: ignore[attr-defined]
    again, _, result_again = timed(counter, lambda: reminders.sweep_until_done(now=sweep_at))
    print(
        f"reminder sweep: {sent} sent in {seconds:.2f} s ({statements} statements, "
        f"{statements / max(1, sent):.2f} per reminder); run again: "
        f"{len(result_again.sent)} sent in {again:.3f} s"  # type: ignore[attr-defined]
    )
    series = db.session.scalars(select(CallSeries)).first()
    recipients = list(members) + [actor]
    started = time.perf_counter()
    before = counter.count
    sample = min(sent, BASELINE_SAMPLE)
    for i in range(sample):
        notify(
            recipients,
            event_key=f"bench-baseline:{i}",
            kind="call_reminder",
            text="Reminder: Bench call starts in 1 hour.",
            key=series.dek_id,  # type: ignore[union-attr]
            link="/calls",
            email_subject="Reminder: the monthly call starts in 1 hour",
            email_body="Reminder: the monthly call starts in 1 hour.",
        )
    db.session.commit()
    bare = time.perf_counter() - started
    bare_statements = counter.count - before
    figure(
        f"calls: reminder sweep, {sent} due reminders x {len(recipients)} members",
        seconds / max(1, sent) * 1000,
        "notify() alone for the same reminders",
        bare / max(1, sample) * 1000,
        "ms per reminder",
        higher_is_better=False,
    )
    figure(
        "calls: reminder sweep, SQL statements per reminder",
        statements / max(1, sent),
        "notify() alone",
        bare_statements / max(1, sample),
        "statements",
        higher_is_better=False,
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as tmp:
        instance = prepare_instance(Path(tmp) / "instance")
        with instance.config_path.open("a", encoding="utf-8") as config:
            config.write("[calls]\nhorizon_months = 12\n")
        app = instance.app()
        with app.app_context():
            counter = StatementCounter()
            event.listen(db.engine, "before_cursor_execute", counter)
            password_hash = hash_password("a long bench password 2026")
            organisation = member_services.get_or_create_organisation("Bench NGO", "BE", "ngo")
            actor = member_services.create_member(
                email="coordinator@example.org",
                name="Bench Coordinator",
                role="coordinator",
                password_hash=password_hash,
                organisation=organisation,
            )
            members = [
                member_services.create_member(
                    email=f"bench{n}@example.org",
                    name=f"Bench Member {n}",
                    password_hash=password_hash,
                    organisation=organisation,
                )
                for n in range(MEMBERS)
            ]
            db.session.commit()
            bench_horizon(counter, actor)
            bench_reminders(counter, actor, members)
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
