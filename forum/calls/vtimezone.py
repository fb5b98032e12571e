"""VTIMEZONE blocks that every calendar reader reads the same way zoneinfo does.

Readers differ in what they understand. icalendar's own `Timezone.from_tzid` writes one
observance per offset with every onset on a multi-value RDATE line; ical.js (Thunderbird) reads
only the first value of an RDATE line and vobject (dateutil) misreads the list too, so calls in
later years came out an hour off. What every reader handles is what Outlook, Google and
Thunderbird publish themselves: one STANDARD and one DAYLIGHT observance whose yearly RRULE
(nth, last, or "first weekday on or after day d" of a month) starts on its first onset.

So the block is built from zoneinfo's transitions over the years the feed covers: when those
transitions follow one yearly rule pair, it is written as that pair; when they do not (a zone
that changes its rules in the window, Morocco's Ramadan dates), each onset gets an observance of
its own with a single DTSTART, which every reader also handles. A zone with no change in the
window is one observance with equal offsets.
"""

from __future__ import annotations

import calendar as monthdays
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
STEP = timedelta(hours=12)  # no zone changes its offset twice within 12 hours


@dataclass(frozen=True)
class Onset:
    """One change of a zone's offset: local wall-clock onset (in the old offset) and offsets."""

    local: datetime  # naive, in the offset before the change (RFC 5545 3.6.5)
    before: timedelta
    after: timedelta
    is_daylight: bool
    name: str

    @property
    def kind(self) -> tuple[timedelta, timedelta, bool]:
        return (self.before, self.after, self.is_daylight)


def _state(zone: ZoneInfo, at: datetime) -> tuple[timedelta, bool, str]:
    local = at.astimezone(zone)
    dst = local.dst() or timedelta(0)
    return local.utcoffset() or timedelta(0), dst > timedelta(0), local.tzname() or ""


def onsets(zone: ZoneInfo, start: datetime, end: datetime) -> list[Onset]:
    """Every change of offset between two UTC instants, found to the second."""
    found: list[Onset] = []
    at = start
    offset = _state(zone, at)[0]
    while at < end:
        step = at + STEP
        if _state(zone, step)[0] != offset:
            low, high = at, step  # the change lies in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if _state(zone, middle)[0] == offset else (low, middle)
            after, is_daylight, name = _state(zone, high)
            local = (high + offset).replace(tzinfo=None, microsecond=0)
            found.append(Onset(local, offset, after, is_daylight, name))
            offset = after
        at = step
    return found


def _byday_rule(days: list[datetime]) -> dict[str, object] | None:
    """A yearly rule that yields exactly these onsets (one a year, same month, weekday, time)."""
    first = days[0]
    same = all(
        (d.month, d.weekday(), d.time()) == (first.month, first.weekday(), first.time())
        for d in days
    )
    years = [d.year for d in days]
    if not same or years != list(range(years[0], years[0] + len(years))):
        return None
    weekday = WEEKDAYS[first.weekday()]
    rule: dict[str, object] = {"FREQ": "YEARLY", "BYMONTH": first.month}
    nth = {(d.day - 1) // 7 + 1 for d in days}
    if len(nth) == 1 and nth <= {1, 2, 3, 4}:
        rule["BYDAY"] = f"{nth.pop()}{weekday}"
    elif all(d.day + 7 > monthdays.monthrange(d.year, d.month)[1] for d in days):
        rule["BYDAY"] = f"-1{weekday}"
    else:
        low = max(d.day for d in days) - 6
        if low < 1 or low > min(d.day for d in days) or low + 6 > 28:
            return None
        rule["BYDAY"] = weekday
        rule["BYMONTHDAY"] = list(range(low, low + 7))
    return rule


def _observance(onset: Onset) -> TimezoneStandard | TimezoneDaylight:
    part = TimezoneDaylight() if onset.is_daylight else TimezoneStandard()
    part.add("tzname", onset.name)
    part.add("tzoffsetfrom", onset.before)
    part.add("tzoffsetto", onset.after)
    part.add("dtstart", onset.local)
    return part


@lru_cache(maxsize=512)
def vtimezone(name: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of an IANA zone, right in every reader for the years given (cached)."""
    zone = ZoneInfo(name)
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    changes = onsets(zone, start, end)
    block = Timezone()
    block.add("tzid", name)
    block.add("x-lic-location", name)
    kinds: dict[tuple[timedelta, timedelta, bool], list[Onset]] = {}
    for onset in changes:
        kinds.setdefault(onset.kind, []).append(onset)
    rules = {kind: _byday_rule([o.local for o in group]) for kind, group in kinds.items()}
    years = last_year - first_year + 1
    if len(kinds) == 2 and all(rules.values()) and all(len(g) == years for g in kinds.values()):
        for kind, group in kinds.items():
            part = _observance(group[0])
            part.add("rrule", rules[kind])
            block.add_component(part)
        return block
    offset, is_daylight, tzname = _state(zone, start)
    local = (start + offset).replace(tzinfo=None)
    block.add_component(_observance(Onset(local, offset, offset, is_daylight, tzname)))
    for onset in changes:
        block.add_component(_observance(onset))
    return block
