"""Recurrence in plain words, computed with APScheduler, right across daylight-saving changes."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from forum.calls.recurrence import RecurrenceError, Rule, describe, next_slots, slots, trigger

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
UNTIL = datetime(2028, 11, 28, 12, 0, tzinfo=UTC)  # 24 months


def monthly(zone: str, at: str = "14:00", **fields) -> Rule:
    fields.setdefault("pattern", "nth_weekday")
    if fields["pattern"] == "nth_weekday":
        fields.setdefault("ordinal", 2)
        fields.setdefault("weekday", 3)
    return Rule(timezone=zone, time_of_day=at, starts_at=START, **fields)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> int:
    days = [w[weekday] for w in calendar.monthcalendar(year, month) if w[weekday]]
    return days[n - 1] if n > 0 else days[-1]


def test_the_rule_is_an_apscheduler_cron_trigger_in_the_organisers_zone():
    trig = trigger(monthly("Europe/Brussels"))
    assert type(trig).__module__ == "apscheduler.triggers.cron"
    assert str(trig.timezone) == "Europe/Brussels"
    assert "day='2nd thu'" in repr(trig)


@pytest.mark.parametrize(
    "zone", ["Europe/Brussels", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
)
def test_second_thursday_is_at_1400_wall_clock_for_24_months(zone):
    found = list(slots(monthly(zone), until=UNTIL))
    assert len(found) == 24
    offsets = set()
    for _, at in found:
        local = at.astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute) == (14, 0)
        assert local.weekday() == 3
        assert local.day == nth_weekday(local.year, local.month, 3, 2)
        offsets.add(local.utcoffset())
    if zone != "Asia/Kolkata":
        assert len(offsets) == 2, "the series crosses both daylight-saving changes"
    months = [
        (at.astimezone(ZoneInfo(zone)).year, at.astimezone(ZoneInfo(zone)).month) for _, at in found
    ]
    assert len(set(months)) == 24


def test_brussels_call_moves_in_utc_when_europe_changes_clocks_but_not_in_brussels():
    found = [at for _, at in slots(monthly("Europe/Brussels"), until=UNTIL)]
    march = next(at for at in found if (at.year, at.month) == (2027, 3))
    april = next(at for at in found if (at.year, at.month) == (2027, 4))
    assert march == datetime(2027, 3, 11, 13, 0, tzinfo=UTC)  # CET, before 28 March
    assert april == datetime(2027, 4, 8, 12, 0, tzinfo=UTC)  # CEST


def test_new_york_call_follows_the_american_change_dates_not_the_european_ones():
    found = [at for _, at in slots(monthly("America/New_York", "10:00"), until=UNTIL)]
    # 14 March 2027: the US springs forward; the 2nd Thursday (11 March) is still EST.
    assert next(at for at in found if (at.year, at.month) == (2027, 3)) == datetime(
        2027, 3, 11, 15, 0, tzinfo=UTC
    )
    assert next(at for at in found if (at.year, at.month) == (2027, 11)) == datetime(
        2027, 11, 11, 15, 0, tzinfo=UTC
    )
    assert next(at for at in found if (at.year, at.month) == (2027, 10)) == datetime(
        2027, 10, 14, 14, 0, tzinfo=UTC
    )


def test_last_tuesday_and_fifteenth_of_every_month():
    rule = monthly("Europe/Brussels", pattern="last_weekday", weekday=1)
    last = [at for _, at in slots(rule, until=UNTIL)]
    # 24 Nov 2026 is before the start and 28 Nov 2028 14:00 after the end: December to October.
    assert len(last) == 23
    for at in last:
        local = at.astimezone(ZoneInfo("Europe/Brussels"))
        assert (
            local.weekday() == 1 and local.day + 7 > calendar.monthrange(local.year, local.month)[1]
        )
        assert local.hour == 14
    fifteenth = [
        at
        for _, at in slots(
            monthly("Europe/Brussels", pattern="day_of_month", day_of_month=15), until=UNTIL
        )
    ]
    assert len(fifteenth) == 24
    assert all(at.astimezone(ZoneInfo("Europe/Brussels")).day == 15 for at in fifteenth)


def test_time_in_the_skipped_hour_happens_at_0330_after_the_clocks_go_forward():
    # Brussels: 28 March 2027, 02:00 CET -> 03:00 CEST. 02:30 does not exist that day.
    rule = monthly("Europe/Brussels", "02:30", pattern="last_weekday", weekday=6)
    found = [at for _, at in slots(rule, until=UNTIL)]
    march = next(at for at in found if (at.year, at.month) == (2027, 3))
    assert march == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert march.astimezone(ZoneInfo("Europe/Brussels")).strftime("%H:%M %Z") == "03:30 CEST"
    february = next(at for at in found if (at.year, at.month) == (2027, 2))
    assert february.astimezone(ZoneInfo("Europe/Brussels")).strftime("%H:%M") == "02:30"
    # New York: 14 March 2027, 02:30 does not exist either.
    ny = monthly("America/New_York", "02:30", pattern="nth_weekday", ordinal=2, weekday=6)
    march_ny = next(at for _, at in slots(ny, until=UNTIL) if (at.year, at.month) == (2027, 3))
    assert (
        march_ny.astimezone(ZoneInfo("America/New_York")).strftime("%d %H:%M %Z") == "14 03:30 EDT"
    )


def test_time_in_the_repeated_hour_happens_once_at_the_first_daylight_saving_instant():
    # New York: 7 November 2027, 01:30 happens twice (EDT, then EST). APScheduler yields both.
    rule = monthly("America/New_York", "01:30", pattern="nth_weekday", ordinal=1, weekday=6)
    found = [at for _, at in slots(rule, until=UNTIL)]
    november = [at for at in found if (at.year, at.month) == (2027, 11)]
    assert november == [datetime(2027, 11, 7, 5, 30, tzinfo=UTC)]
    assert november[0].astimezone(ZoneInfo("America/New_York")).tzname() == "EDT"
    assert len(found) == 24
    # Brussels: 31 October 2027, 02:30 happens twice.
    brussels = monthly("Europe/Brussels", "02:30", pattern="last_weekday", weekday=6)
    october = [at for _, at in slots(brussels, until=UNTIL) if (at.year, at.month) == (2027, 10)]
    assert october == [datetime(2027, 10, 31, 0, 30, tzinfo=UTC)]


def test_sydney_changes_clocks_in_the_other_direction():
    rule = monthly("Australia/Sydney", "02:30", pattern="nth_weekday", ordinal=1, weekday=6)
    found = {(at.year, at.month): at for _, at in slots(rule, until=UNTIL)}
    # 4 April 2027: Sydney falls back at 03:00 AEDT -> 02:00 AEST; 02:30 is repeated: first (AEDT).
    assert (
        found[(2027, 4)].astimezone(ZoneInfo("Australia/Sydney")).strftime("%H:%M %Z")
        == "02:30 AEDT"
    )
    # 3 October 2027: Sydney springs forward at 02:00; 02:30 is skipped: 03:30 AEDT.
    assert (
        found[(2027, 10)].astimezone(ZoneInfo("Australia/Sydney")).strftime("%H:%M %Z")
        == "03:30 AEDT"
    )


def test_fair_rotation_alternates_two_times_and_stays_stable():
    rule = monthly("UTC", "09:00", rotation_time="16:00")
    found = list(slots(rule, until=UNTIL))
    hours = [at.hour for _, at in found]
    assert hours[:6] == [9, 16, 9, 16, 9, 16]
    later = next_slots(rule, after=found[3][1] - timedelta(minutes=1), count=3)
    assert later == found[3:6], "positions count from the series start, not from the preview"
    assert "alternating between 09:00 and 16:00" in describe(rule)


def test_rotation_in_a_zone_with_daylight_saving_keeps_both_wall_clock_times():
    rule = monthly("Europe/Brussels", "09:00", rotation_time="16:00")
    for position, at in slots(rule, until=UNTIL):
        local = at.astimezone(ZoneInfo("Europe/Brussels"))
        assert local.hour == (9 if position % 2 == 0 else 16)


def test_every_other_week():
    rule = monthly("Europe/Brussels", "11:00", pattern="biweekly", weekday=0)
    found = [at for _, at in slots(rule, until=START + timedelta(days=70))]
    gaps = {(b - a).days for a, b in zip(found, found[1:], strict=False)}
    assert gaps == {14}


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({}, "the second Thursday of every month at 14:00 Europe/Brussels"),
        (
            {"pattern": "last_weekday", "weekday": 1},
            "the last Tuesday of every month at 14:00 Europe/Brussels",
        ),
        (
            {"pattern": "day_of_month", "day_of_month": 15},
            "every month on the 15th at 14:00 Europe/Brussels",
        ),
        ({"pattern": "weekly", "weekday": 4}, "every Friday at 14:00 Europe/Brussels"),
    ],
)
def test_rules_read_in_plain_words(fields, words):
    assert describe(monthly("Europe/Brussels", **fields)) == words


def test_an_unknown_zone_or_time_is_refused_in_plain_words():
    with pytest.raises(RecurrenceError, match="time zone"):
        trigger(monthly("Mars/Olympus"))
    with pytest.raises(RecurrenceError, match="time of day"):
        trigger(monthly("UTC", "25h"))
