"""Four independent calendar readers, each giving {UID: start as an aware UTC datetime}.

ical.js is the parser inside Mozilla Thunderbird (run with Node; the file's VTIMEZONE blocks
decide), vobject reads the blocks through dateutil, icalendar and recurring-ical-events look the
TZID up in zoneinfo. Used by the feed tests and by bench/calls_readers.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import recurring_ical_events
import vobject
from dateutil import tz as dateutil_tz
from icalendar import Calendar

HERE = Path(__file__).resolve().parent


def install_icaljs() -> None:
    """`npm ci` here unless ical.js is installed already (.ci/run installs it first)."""
    if not (HERE / "node_modules" / "ical.js").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, timeout=300)


def read_with_icaljs(body: bytes, timeout: float = 60) -> dict[str, datetime]:
    """Starts as ical.js reads them."""
    install_icaljs()
    done = subprocess.run(
        ["node", "read_starts.mjs"],
        input=body,
        capture_output=True,
        cwd=HERE,
        timeout=timeout,
        check=True,
    )
    return {uid: datetime.fromtimestamp(s, UTC) for uid, s in json.loads(done.stdout).items()}


def read_with_vobject(body: bytes) -> dict[str, datetime]:
    """Starts as vobject reads them, as a process that meets these zones for the first time."""
    # vobject keeps the first VTIMEZONE it met for a TZID for the life of the process, so an
    # earlier file's block would decide instead of this file's.
    registry = vars(vobject.icalendar)["__tzidMap"]
    for tzid in re.findall(r"^TZID:(.+?)\r?$", body.decode("utf-8"), flags=re.M):
        registry.pop(tzid, None)
    calendar = vobject.readOne(body.decode("utf-8"))
    starts = {}
    for event in calendar.contents["vevent"]:
        start = event.dtstart.value
        # vobject drops a block it takes for UTC (no change in 2000-2020) for pytz's zone of the
        # same name: such a start did not come from the file, so it is left out (counted wrong).
        if start.utcoffset() and not isinstance(start.tzinfo, dateutil_tz.tz._tzicalvtz):
            continue
        starts[str(event.uid.value)] = start.astimezone(UTC)
    return starts


def read_with_icalendar(body: bytes) -> dict[str, datetime]:
    """Starts as icalendar reads them."""
    return {
        str(e["UID"]): e.decoded("DTSTART").astimezone(UTC)
        for e in Calendar.from_ical(body).walk("VEVENT")
    }


def read_with_recurring_ical_events(body: bytes) -> dict[str, datetime]:
    """Starts as recurring-ical-events lists them between 2020 and 2035."""
    found = recurring_ical_events.of(Calendar.from_ical(body)).between(
        datetime(2020, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC)
    )
    return {str(e["UID"]): e.decoded("DTSTART").astimezone(UTC) for e in found}


READ: dict[str, Callable[[bytes], dict[str, datetime]]] = {
    "ical.js": read_with_icaljs,
    "vobject": read_with_vobject,
    "icalendar": read_with_icalendar,
    "recurring-ical-events": read_with_recurring_ical_events,
}
