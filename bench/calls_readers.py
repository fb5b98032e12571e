"""Calls: how many call starts four calendar readers read at the wrong instant, with the old
VTIMEZONE blocks (icalendar's from_tzid, local time even in a repeated hour) as the same-run
baseline, and what building the new blocks costs next to from_tzid.

The calls are weekly over 25 months in 14 zones at wall-clock times on each zone's skipped and
repeated hours (as in tests/calls/test_feed_readers.py), built without a database. Readers:
ical.js (Thunderbird's parser, via Node), vobject, icalendar, recurring-ical-events.

Run: python bench/calls_readers.py   (about 30 s; no network, no server)
     python bench/calls_readers.py --all-zones   (every zone of the zone database, about 2 min)
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from figures import figure  # noqa: E402
from icalendar import Calendar, Event, Timezone  # noqa: E402

from forum.calls import vtimezone as blocks  # noqa: E402
from forum.calls.ical import _moment  # noqa: E402
from forum.calls.vtimezone import onsets  # noqa: E402
from tests.calendar_readers.readers import READ, read_with_icaljs, read_with_vobject  # noqa: E402

START = date(2026, 11, 29)  # a Sunday
WEEKS = 110  # 25 months
CALLS = [  # (zone, days after a Sunday, wall-clock time)
    ("Europe/Brussels", 0, "02:30"),
    ("Europe/Brussels", 4, "14:00"),
    ("Europe/London", 0, "01:30"),
    ("America/New_York", 0, "02:30"),
    ("America/New_York", 0, "01:30"),
    ("America/Sao_Paulo", 0, "14:00"),
    ("America/Santiago", 0, "00:30"),
    ("America/Santiago", 6, "23:30"),
    ("Australia/Sydney", 0, "02:30"),
    ("Australia/Lord_Howe", 0, "02:15"),
    ("Australia/Lord_Howe", 0, "01:45"),
    ("Asia/Kolkata", 0, "14:00"),
    ("Asia/Tehran", 0, "14:00"),
    ("Pacific/Auckland", 0, "02:30"),
    ("Pacific/Chatham", 0, "03:30"),
    ("Africa/Casablanca", 0, "02:30"),
]
SECOND_PASS = [
    ("Europe/Brussels", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
    ("America/New_York", datetime(2027, 11, 7, 6, 30, tzinfo=UTC)),
    ("Australia/Sydney", datetime(2028, 4, 1, 16, 30, tzinfo=UTC)),
]
BUILDS = 20


def instants() -> list[tuple[str, str, datetime]]:
    """(uid, zone, UTC start) of every call; zoneinfo decides each instant (fold=0)."""
    found = []
    for n, (zone, shift, clock) in enumerate(CALLS):
        hour, minute = map(int, clock.split(":"))
        for week in range(WEEKS):
            day = START + timedelta(days=7 * week + shift)
            local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
            found.append((f"{n}-{week}@bench", zone, local.astimezone(UTC)))
    found += [(f"moved-{n}@bench", zone, at) for n, (zone, at) in enumerate(SECOND_PASS)]
    return found


def old_block(zone: str, first: int, last: int) -> Timezone:
    return Timezone.from_tzid(zone, first_date=date(first, 1, 1), last_date=date(last, 12, 31))


def feed(calls: list[tuple[str, str, datetime]], *, new: bool) -> bytes:
    """A VCALENDAR of the calls, with the old or the new zone blocks and start values."""
    calendar = Calendar()
    calendar.add("prodid", "-//bench//EN")
    calendar.add("version", "2.0")
    first, last = min(c[2] for c in calls).year - 1, max(c[2] for c in calls).year + 1
    for zone in sorted({c[1] for c in calls}):
        build = blocks.vtimezone if new else old_block
        calendar.add_component(build(zone, first, last))
    for uid, zone, at in calls:
        event = Event()
        event.add("uid", uid)
        event.add("dtstamp", datetime(2026, 11, 28, tzinfo=UTC))
        event.add("dtstart", _moment(at, ZoneInfo(zone)) if new else at.astimezone(ZoneInfo(zone)))
        event.add("summary", "Bench call")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def wrong(body: bytes, calls: list[tuple[str, str, datetime]]) -> dict[str, int]:
    """Per reader, how many starts it read at another instant (or not at all)."""
    result = {}
    for reader, read in READ.items():
        got = read(body)
        result[reader] = sum(1 for uid, _zone, at in calls if got.get(uid) != at)
    return result


def seconds_to_build(build: object, zones: list[str]) -> float:
    started = time.perf_counter()
    for n in range(BUILDS):
        for zone in zones:
            build(zone, 2025 + n % 3, 2029 + n % 3)  # type: ignore[operator]
    return (time.perf_counter() - started) / BUILDS


def main() -> None:
    calls = instants()
    before = wrong(feed(calls, new=False), calls)
    after = wrong(feed(calls, new=True), calls)
    for reader in READ:
        print(
            f"{reader}: {len(calls)} starts, wrong {before[reader]} before, {after[reader]} after"
        )
    figure(
        f"calls: starts read wrong by ical.js+vobject+icalendar+recurring-ical-events, "
        f"{len(calls)} starts x 4 readers, new VTIMEZONE blocks",
        sum(after.values()),
        "the old from_tzid blocks",
        sum(before.values()),
        "wrong starts",
        goal="0",
        higher_is_better=False,
    )
    zones = sorted({zone for zone, _shift, _clock in CALLS})
    blocks.vtimezone.cache_clear()
    new_cost = seconds_to_build(blocks.vtimezone.__wrapped__, zones)
    old_cost = seconds_to_build(old_block, zones)
    figure(
        f"calls: building the VTIMEZONE blocks of {len(zones)} zones over 5 years (uncached)",
        new_cost * 1000,
        "icalendar's Timezone.from_tzid for the same zones and years",
        old_cost * 1000,
        "ms",
        higher_is_better=False,
    )


def all_zones() -> None:
    """Every zone, 2025-2029: ical.js and vobject on starts around each change and at random."""
    from zoneinfo import available_timezones

    rng = random.Random(7)
    names = sorted(
        z for z in available_timezones() if not z.startswith(("Etc/", "SystemV")) and z != "Factory"
    )
    calendar = Calendar()
    calendar.add("prodid", "-//bench//EN")
    calendar.add("version", "2.0")
    start, end = datetime(2025, 3, 1, tzinfo=UTC), datetime(2029, 12, 1, tzinfo=UTC)
    span = int((end - start).total_seconds())
    truth = {}
    for name in names:
        zone = ZoneInfo(name)
        calendar.add_component(blocks.vtimezone(name, 2025, 2029))
        moments = [start + timedelta(seconds=rng.randrange(span)) for _ in range(20)]
        for change in onsets(zone, start, end):
            at = (change.local - change.before).replace(tzinfo=UTC)
            moments += [at + timedelta(minutes=m) for m in (-90, -1, 1, 90)]
        for n, at in enumerate(moments):
            at = at.replace(second=0, microsecond=0)
            event = Event()
            event.add("uid", f"{name}-{n}")
            event.add("dtstamp", start)
            event.add("dtstart", _moment(at, zone))
            calendar.add_component(event)
            truth[f"{name}-{n}"] = at
    body = bytes(calendar.to_ical())
    for reader, got in (
        ("ical.js", read_with_icaljs(body, timeout=600)),
        ("vobject", read_with_vobject(body)),
    ):
        bad = [uid for uid, at in truth.items() if got.get(uid) != at]
        print(f"{reader}: {len(names)} zones, {len(truth)} starts, {len(bad)} wrong {bad[:5]}")


if __name__ == "__main__":
    all_zones() if "--all-zones" in sys.argv else main()
