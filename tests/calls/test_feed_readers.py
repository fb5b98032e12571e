"""The personal feed as other people's calendar parsers read it: every start at the right instant.

Four independent readers parse the feed served at the secret address: ical.js (the parser inside
Mozilla Thunderbird, run with Node from tests/calendar_readers), vobject (reads the file's own
VTIMEZONE blocks through dateutil), icalendar and recurring-ical-events (look zones up by name).
Each start they read is compared with the instant the Exchange stored, which zoneinfo computed
from the organiser's wall-clock time. The series cover 24 months in zones with odd offsets, with
rules in the southern hemisphere, with no daylight-saving time, with transitions at midnight, on
Ramadan dates, and calls on the skipped and on the repeated hour of each change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from forum.calls import ical, occurrences, services
from forum.calls.models import CallSeries, Occurrence
from forum.extensions import db
from tests.calendar_readers.readers import READ
from tests.support.calls import NOW, monthly_fields

SUNDAY, SATURDAY, THURSDAY = 6, 5, 3

# (zone, weekday, wall-clock times): the times sit on the zone's skipped and repeated hours.
SERIES = [
    ("Europe/Brussels", SUNDAY, ["02:30"]),
    ("Europe/Brussels", THURSDAY, ["14:00"]),
    ("Europe/London", SUNDAY, ["01:30"]),
    ("America/New_York", SUNDAY, ["02:30", "01:30"]),
    ("America/Sao_Paulo", SUNDAY, ["14:00"]),
    ("America/Santiago", SUNDAY, ["00:30"]),
    ("America/Santiago", SATURDAY, ["23:30"]),
    ("Australia/Sydney", SUNDAY, ["02:30"]),
    ("Australia/Lord_Howe", SUNDAY, ["02:15", "01:45"]),
    ("Asia/Kolkata", SUNDAY, ["14:00"]),
    ("Asia/Tehran", SUNDAY, ["14:00"]),
    ("Pacific/Auckland", SUNDAY, ["02:30"]),
    ("Pacific/Chatham", SUNDAY, ["03:30", "03:15"]),
    ("Africa/Casablanca", SUNDAY, ["02:30"]),
]
# Moved by hand to the second pass of a repeated hour: only UTC can say which pass is meant.
SECOND_PASS = [
    ("Europe/Brussels", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
    ("America/New_York", datetime(2027, 11, 7, 6, 30, tzinfo=UTC)),
    ("Australia/Sydney", datetime(2028, 4, 1, 16, 30, tzinfo=UTC)),
]


@pytest.fixture
def many_zones(app: Any, members: Any) -> list[CallSeries]:
    """Weekly series in many zones filled 25 months ahead, plus calls moved into repeated hours."""
    app.config["EXCHANGE"]["calls"]["horizon_months"] = 25
    coordinator = members.coordinator(name="Zone Coordinator")
    made = []
    for zone, weekday, times in SERIES:
        for clock in times:
            fields = monthly_fields(
                title=f"Call {zone} {clock}",
                timezone=zone,
                time_of_day=clock,
                pattern="weekly",
                ordinal=None,
                weekday=weekday,
            )
            made.append(services.create_series(actor=coordinator, fields=fields, now=NOW))
    for zone, instant in SECOND_PASS:
        series = next(s for s in made if s.timezone == zone)
        row = db.session.scalars(
            select(Occurrence)
            .where(Occurrence.series_id == series.id, Occurrence.starts_at > instant)
            .order_by(Occurrence.starts_at)
        ).first()
        occurrences.move_occurrence(row, actor=coordinator, starts_at=instant)
    db.session.commit()
    return made


def truth() -> dict[str, tuple[datetime, str, str]]:
    """UID -> (stored UTC start, zone, wall-clock time of the series) for every occurrence."""
    rows = db.session.execute(
        select(Occurrence.id, Occurrence.starts_at, CallSeries.timezone, CallSeries.time_of_day)
        .join(CallSeries, CallSeries.id == Occurrence.series_id)
        .where(Occurrence.starts_at >= NOW - timedelta(days=ical.FEED_PAST_DAYS))
    ).all()
    return {
        f"{id_}@invictm-exchange": (at.replace(tzinfo=UTC), zone, clock)
        for id_, at, zone, clock in rows
    }


def wrong_starts(body: bytes, reader: str) -> tuple[int, list[str]]:
    """How many starts a reader read, and a line for each one it read at the wrong instant."""
    expected = truth()
    got = READ[reader](body)
    wrong = []
    for uid, (at, zone, _clock) in sorted(expected.items(), key=lambda item: item[1][0]):
        read = got.get(uid)
        if read != at:
            local = at.astimezone(ZoneInfo(zone))
            wrong.append(f"{zone} {local:%Y-%m-%d %H:%M%z}: read {read}, is {at}")
    return len(expected), wrong


def starts_on_changes() -> tuple[int, int]:
    """How many stored starts fall on a skipped hour (moved on) and on a repeated hour."""
    skipped = repeated = 0
    for at, zone, clock in truth().values():
        local = at.astimezone(ZoneInfo(zone))
        if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
            repeated += 1
        elif f"{local:%H:%M}" != clock:
            skipped += 1  # the wall-clock time did not exist that day: the call moved on
    return skipped, repeated


@pytest.mark.slow  # four parsers over about 1,850 calls: several seconds
def test_every_reader_reads_every_start_at_the_instant_the_exchange_stored(
    many_zones, members, browser
):
    skipped, repeated = starts_on_changes()
    assert skipped >= 15 and repeated >= 15
    starts = {at for at, _zone, _clock in truth().values()}
    assert max(starts) >= NOW + timedelta(days=730)
    assert datetime(2028, 4, 13, 12, 0, tzinfo=UTC) in starts  # 14:00 Brussels, summer time
    member = members.make()
    token = ical.issue_feed_token(member)
    db.session.commit()
    response = browser.get(f"/calls/feed/{token}.ics")  # a calendar application, no cookie
    assert response.status_code == 200
    report = {}
    for reader in READ:
        checked, wrong = wrong_starts(response.data, reader)
        assert checked > 1500
        if wrong:
            report[reader] = f"{len(wrong)} of {checked} wrong, e.g.\n  " + "\n  ".join(wrong[:5])
    assert not report, "\n".join(f"{reader}: {text}" for reader, text in report.items())


def test_the_download_of_one_call_reads_right_in_every_reader(many_zones, members, make_browser):
    member = members.make()
    expected = truth()
    moved = [instant for _zone, instant in SECOND_PASS]
    rows = db.session.scalars(select(Occurrence).where(Occurrence.starts_at.in_(moved))).all()
    assert len(rows) >= len(SECOND_PASS)
    for row in rows:
        body = make_browser(member).get(f"/calls/occurrences/{row.id}.ics").data
        uid = f"{row.id}@invictm-exchange"
        for reader, read in READ.items():
            assert read(body)[uid] == expected[uid][0], reader
