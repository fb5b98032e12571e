"""Calls: a member's calendar feed with 200 occurrences, in requests per second, against a bare
Flask "hello" route served by the same gunicorn gthread settings in the same run.

Run: python bench/calls_feed.py   (about 30 s; loopback only; stops every process it starts)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import THREADS, WORKERS, load, prepare_instance, request, serving  # noqa: E402
from _hello import app as hello_app  # noqa: E402
from figures import figure  # noqa: E402
from icalendar import Calendar  # noqa: E402
from sqlalchemy import select  # noqa: E402

from forum.calls import ical, services  # noqa: E402
from forum.db import utcnow  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members import services as member_services  # noqa: E402
from forum.members.models import Member  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402

SECONDS = 3.0
CONNECTIONS = 8
OCCURRENCES = 200
COLD_BUILDS = 5
WARM_BUILDS = 30
HELLO_CALLS = 2000


def build(instance_app: object) -> str:
    """Four weekly series over the 12-month horizon (about 200 calls); returns a feed path."""
    with instance_app.app_context():  # type: ignore[attr-defined]
        password_hash = hash_password("a long bench password 2026")
        organisation = member_services.get_or_create_organisation("Bench NGO", "BE", "ngo")
        coordinator = member_services.create_member(
            email="coordinator@example.org",
            name="Bench Coordinator",
            role="coordinator",
            password_hash=password_hash,
            organisation=organisation,
        )
        zones = ("Europe/Brussels", "America/New_York", "Australia/Sydney", "Asia/Kolkata")
        for n, zone in enumerate(zones):
            services.create_series(
                actor=coordinator,
                fields=services.SeriesFields(
                    title=f"Bench weekly call {n}",
                    timezone=zone,
                    time_of_day="10:00",
                    pattern="weekly",
                    weekday=n,
                    starts_at=utcnow(),
                    joining_details="https://meet.example.org/bench",
                ),
            )
        db.session.commit()
        token = ical.issue_feed_token(coordinator)
        db.session.commit()
        path = instance_app.url_map.bind("localhost").build("calls.feed", {"token": token})  # type: ignore[attr-defined]
        db.session.remove()
        db.engine.dispose()
    return str(path)


def builds_per_second(instance_app: object) -> tuple[float, float, float]:
    """Feeds built per second in-process: from nothing, and for another member (shared event
    cache warm); and bare hello requests per second through the test client."""
    with instance_app.app_context():  # type: ignore[attr-defined]
        member = db.session.scalars(select(Member)).first()
        ical.feed_ics(member)  # warm: imports, VTIMEZONE cache
        started = time.perf_counter()
        for _ in range(COLD_BUILDS):
            ical.clear_caches()
            ical.feed_ics(member)
        cold = COLD_BUILDS / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(WARM_BUILDS):
            ical.feed_ics(member)
        warm = WARM_BUILDS / (time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    client = hello_app.test_client()
    started = time.perf_counter()
    for _ in range(HELLO_CALLS):
        client.get("/hello")
    return cold, warm, HELLO_CALLS / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-calls-feed-") as tmp:
        instance = prepare_instance(Path(tmp) / "instance", ratelimit_enabled=False)
        with instance.config_path.open("a", encoding="utf-8") as config:
            config.write("[calls]\nhorizon_months = 12\n")
        app = instance.app()
        path = build(app)
        cold, warm, hello_in_process = builds_per_second(app)
        with (
            serving("bench._hello:app", instance.env, probe_path="/hello") as bare,
            serving("forum:create_app()", instance.env, probe_path=path) as exchange,
        ):
            status, body = request(exchange.port, "GET", path)
            events = len(Calendar.from_ical(body).walk("VEVENT"))
            if status != 200 or events < OCCURRENCES:
                raise RuntimeError(f"the feed answered {status} with {events} events")
            load(bare.port, "/hello", seconds=1.0, connections=CONNECTIONS)
            hello_first = load(bare.port, "/hello", seconds=SECONDS, connections=CONNECTIONS)
            load(exchange.port, path, seconds=1.0, connections=CONNECTIONS)
            feed = load(exchange.port, path, seconds=SECONDS, connections=CONNECTIONS)
            hello_last = load(bare.port, "/hello", seconds=SECONDS, connections=CONNECTIONS)
        bad = sum(n for code, n in feed.statuses.items() if code != 200)
        if bad:
            raise RuntimeError(f"{bad} feed responses were not 200")
    hello = (hello_first.requests_per_second + hello_last.requests_per_second) / 2
    print(
        f"feed: {events} events, {len(body) / 1024:.0f} KiB; {feed.requests_per_second:.1f} req/s, "
        f"p50 {feed.p50_ms:.1f} ms, p99 {feed.p99_ms:.1f} ms; hello {hello:.0f} req/s "
        f"(first {hello_first.requests_per_second:.0f}, last {hello_last.requests_per_second:.0f}); "
        f"gunicorn gthread {WORKERS}x{THREADS}, {CONNECTIONS} connections, {feed.tool}, "
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    figure(
        f"calls: calendar feed over HTTP, {events} occurrences (unchanged since the last poll)",
        feed.requests_per_second,
        "bare Flask hello over HTTP",
        hello,
        "req/s",
    )
    figure(
        f"calls: calendar feed built from nothing in-process, {events} occurrences",
        cold,
        "bare Flask hello through the test client",
        hello_in_process,
        "per s",
    )
    figure(
        f"calls: calendar feed built for a member, events already serialised, {events} occurrences",
        warm,
        "bare Flask hello through the test client",
        hello_in_process,
        "per s",
    )


if __name__ == "__main__":
    main()
