"""VTIMEZONE blocks that every calendar reader reads the same way zoneinfo does.

Readers differ in what they understand. icalendar's own `Timezone.from_tzid` writes one
observance per offset with every onset on a multi-value RDATE line; ical.js (Thunderbird) reads
only the first value of an RDATE line and vobject (dateutil) misreads the list too, so calls in
later years came out an hour off. What every reader handles is what Outlook, Google and
Thunderbird publish themselves: one STANDARD and one DAYLIGHT observance whose yearly RRULE
(nth, last, or "first weekday on or after day d" of a month) starts in 1970. (vobject also
throws away a block that shows no change between 2000 and 2020 — it takes it for UTC — and uses
pytz's zone instead, which is what happened to London's; a rule from 1970 does show changes.)

So the block is built from zoneinfo's transitions over the years the feed covers, from a year
before: when those transitions follow one yearly rule pair, it is written as that pair; when
they do not (a zone that changes its rules in the window, Morocco's Ramadan dates), each onset
gets an observance of its own with a single DTSTART, after a first STANDARD one for the offset in
force at the start (dateutil uses the first STANDARD for any earlier time). A zone with no change
is one observance with equal offsets. Every offset above the zone's lowest is DAYLIGHT.

Checked once over all 563 zones of the zone database, 2025-2029, on instants a minute and 90
minutes either side of every change and at random: ical.js and vobject read every start right
(tests/calls/test_feed_readers.py checks 16 series in 12 zones on each run).
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


@dataclass(frozen=True)
class YearlyRule:
    """An onset on a weekday of a month: the nth (1-4), the last (-1), or the first on or after
    day `low` — the three shapes of the zone database's rules that RRULE can say."""

    month: int
    weekday: int
    nth: int | None = None
    low: int | None = None

    def day(self, year: int) -> int:
        """The day of the month of this year's onset."""
        days = monthdays.monthrange(year, self.month)[1]
        matching = [
            d for d in range(1, days + 1) if monthdays.weekday(year, self.month, d) == self.weekday
        ]
        if self.low is not None:
            return next(d for d in matching if d >= self.low)
        assert self.nth is not None
        return matching[self.nth - 1] if self.nth > 0 else matching[-1]

    def rrule(self) -> dict[str, object]:
        rule: dict[str, object] = {"FREQ": "YEARLY", "BYMONTH": self.month}
        if self.low is None:
            rule["BYDAY"] = f"{self.nth}{WEEKDAYS[self.weekday]}"
        else:
            rule["BYDAY"] = WEEKDAYS[self.weekday]
            rule["BYMONTHDAY"] = list(range(self.low, self.low + 7))
        return rule


def _yearly_rule(days: list[datetime]) -> YearlyRule | None:
    """The yearly rule that yields exactly these onsets, one a year at one time of day, if any."""
    first = days[0]
    years = [d.year for d in days]
    if years != list(range(years[0], years[0] + len(years))):
        return None
    if any(
        (d.month, d.weekday(), d.time()) != (first.month, first.weekday(), first.time())
        for d in days
    ):
        return None
    lows = range(max(d.day for d in days) - 6, min(d.day for d in days) + 1)
    candidates = [
        *(YearlyRule(first.month, first.weekday(), nth=n) for n in (1, 2, 3, 4, -1)),
        *(YearlyRule(first.month, first.weekday(), low=low) for low in lows if 1 <= low <= 22),
    ]
    return next((r for r in candidates if all(r.day(d.year) == d.day for d in days)), None)


def _observance(onset: Onset) -> TimezoneStandard | TimezoneDaylight:
    part = TimezoneDaylight() if onset.is_daylight else TimezoneStandard()
    part.add("tzname", onset.name)
    part.add("tzoffsetfrom", onset.before)
    part.add("tzoffsetto", onset.after)
    part.add("dtstart", onset.local)
    return part


def _as_daylight(changes: list[Onset], lowest: timedelta) -> list[Onset]:
    """Every offset above the window's lowest is DAYLIGHT, as Outlook and Google write them.

    zoneinfo calls Irish winter time and Morocco's Ramadan time "daylight saving" with a negative
    save, so both sides of a change would be STANDARD and dateutil (vobject) could not tell the
    two passes of the repeated hour apart.
    """
    return [Onset(o.local, o.before, o.after, o.after > lowest, o.name) for o in changes]


@lru_cache(maxsize=512)
def vtimezone(name: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of an IANA zone, right in every reader for the years given (cached)."""
    zone = ZoneInfo(name)
    # From a year earlier, so the first rule onsets come before the first day asked for (the
    # southern summer spans New Year).
    start = datetime(first_year - 1, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    offset, _, tzname = _state(zone, start)
    changes = onsets(zone, start, end)
    lowest = min([offset, *(o.after for o in changes)])
    changes = _as_daylight(changes, lowest)
    block = Timezone()
    block.add("tzid", name)
    block.add("x-lic-location", name)
    kinds: dict[tuple[timedelta, timedelta, bool], list[Onset]] = {}
    for onset in changes:
        kinds.setdefault(onset.kind, []).append(onset)
    rules = {kind: _yearly_rule([o.local for o in group]) for kind, group in kinds.items()}
    years = last_year - first_year + 2
    if len(kinds) == 2 and all(rules.values()) and all(len(g) == years for g in kinds.values()):
        for kind, group in kinds.items():
            rule = rules[kind]
            assert rule is not None
            # Written from 1970 on, as Outlook, Google and Thunderbird write theirs: vobject
            # takes a block with no change between 2000 and 2020 for UTC and ignores it.
            first = group[0].local
            since = first.replace(year=1970, day=rule.day(1970))
            part = _observance(Onset(since, *kind, group[0].name))
            part.add("rrule", rule.rrule())
            block.add_component(part)
        return block
    local = (start + offset).replace(tzinfo=None)
    # STANDARD, and first: dateutil (vobject) uses the first STANDARD for earlier times.
    block.add_component(_observance(Onset(local, offset, offset, False, tzname)))
    for onset in changes:
        block.add_component(_observance(onset))
    return block
