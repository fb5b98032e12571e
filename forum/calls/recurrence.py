"""Recurrence rules in plain words, computed with APScheduler 3.x CronTrigger in the organiser's zone.

Daylight-saving rules (checked against APScheduler 3.11's CronTrigger, and pinned by tests):

* Every occurrence is at the organiser's wall-clock time in the organiser's zone, whatever the
  offset of that day (14:00 Brussels is 13:00 UTC in winter and 12:00 UTC in summer).
* A time in the hour that is skipped when clocks go forward (02:30 on the last Sunday of March
  in Brussels) happens at 03:30 local time: CronTrigger returns the wall time with the offset
  from before the change, which is the instant the clock shows 03:30 (shifted forward by the gap,
  30 minutes on Lord Howe Island). We keep that instant.
* A time in the hour that is repeated when clocks go back (01:30 on the first Sunday of November
  in New York) happens once, at the first (daylight-saving) instant. CronTrigger yields both
  instants of the repeated wall time; the second (fold=1) one is dropped here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger
from flask_babel import gettext as _

from forum.errors import Invalid
from forum.lazytext import lazy_gettext as _l
from forum.templating import format_local

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", -1: "last"}
ORDINAL_WORDS = {1: _l("first"), 2: _l("second"), 3: _l("third"), 4: _l("fourth"), -1: _l("last")}
# Ends a walk over a rule that can never produce an occurrence (e.g. a 31st in no month).
MAX_STEPS = 5000


class RecurrenceError(Invalid):
    """The rule cannot be computed; the message is a plain sentence for the organiser."""

    def __init__(self, message: str, *, field: str | None = "pattern") -> None:
        super().__init__(message, field=field)


@dataclass(frozen=True)
class Rule:
    """A recurrence: when the series starts, its pattern, and the time(s) of day in its zone."""

    pattern: str
    timezone: str
    time_of_day: str
    starts_at: datetime
    ordinal: int | None = None
    weekday: int | None = None
    day_of_month: int | None = None
    rotation_time: str | None = None
    until_at: datetime | None = None

    @property
    def zone(self) -> ZoneInfo:
        return zone_or_error(self.timezone)


def zone_or_error(name: str) -> ZoneInfo:
    """The ZoneInfo of an IANA name, or a RecurrenceError in plain words."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecurrenceError(
            _("%(name)s is not a time zone this Exchange knows.", name=repr(name))
        ) from None


def zone_names() -> list[str]:
    """Every IANA time zone name, sorted (for forms)."""
    return sorted(n for n in available_timezones() if "/" in n or n == "UTC")


def parse_time(value: str) -> time:
    """An "HH:MM" string as a time, or a RecurrenceError."""
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise RecurrenceError(
            _("%(value)s is not a time of day like 14:00.", value=repr(value))
        ) from None


def trigger(rule: Rule, at: str | None = None) -> CronTrigger:
    """The APScheduler CronTrigger of a rule (at one of its times of day)."""
    clock = parse_time(at or rule.time_of_day)
    fields: dict[str, object] = {"hour": clock.hour, "minute": clock.minute, "second": 0}
    weekday = rule.weekday if rule.weekday is not None else -1
    if rule.pattern == "nth_weekday":
        if rule.ordinal not in (1, 2, 3, 4) or weekday not in range(7):
            raise RecurrenceError(_("Choose which weekday of the month (first to fourth)."))
        fields["day"] = f"{ORDINALS[rule.ordinal or 1]} {WEEKDAYS[weekday]}"
    elif rule.pattern == "last_weekday":
        if weekday not in range(7):
            raise RecurrenceError(_("Choose a weekday."))
        fields["day"] = f"last {WEEKDAYS[weekday]}"
    elif rule.pattern == "day_of_month":
        if rule.day_of_month is None or not 1 <= rule.day_of_month <= 31:
            raise RecurrenceError(_("A day of the month is between 1 and 31."))
        fields["day"] = rule.day_of_month
    elif rule.pattern in ("weekly", "biweekly"):
        if weekday not in range(7):
            raise RecurrenceError(_("Choose a weekday."))
        fields["day_of_week"] = WEEKDAYS[weekday]
    elif rule.pattern == "once":
        local = rule.starts_at.astimezone(rule.zone)
        fields.update(year=local.year, month=local.month, day=local.day)
    else:
        raise RecurrenceError(_("Choose how often the call happens."))
    return CronTrigger(timezone=rule.zone, **fields)  # type: ignore[arg-type]


def _on_day(day: int) -> str:
    """ "every month on the 15th", one whole phrase per English suffix (translators pick theirs)."""
    if not 10 <= day % 100 <= 20 and day % 10 == 1:
        return _("every month on the %(day)sst", day=day)
    if not 10 <= day % 100 <= 20 and day % 10 == 2:
        return _("every month on the %(day)snd", day=day)
    if not 10 <= day % 100 <= 20 and day % 10 == 3:
        return _("every month on the %(day)srd", day=day)
    return _("every month on the %(day)sth", day=day)


def describe(rule: Rule) -> str:
    """The rule in plain words, e.g. "the second Thursday of every month at 14:00 Europe/Brussels"."""
    if rule.pattern == "nth_weekday" and rule.ordinal and rule.weekday is not None:
        when = _(
            "the %(ordinal)s %(weekday)s of every month",
            ordinal=ORDINAL_WORDS[rule.ordinal],
            weekday=WEEKDAY_NAMES[rule.weekday],
        )
    elif rule.pattern == "last_weekday" and rule.weekday is not None:
        when = _("the last %(weekday)s of every month", weekday=WEEKDAY_NAMES[rule.weekday])
    elif rule.pattern == "day_of_month" and rule.day_of_month:
        when = _on_day(rule.day_of_month)
        if rule.day_of_month > 28:
            when = _("%(when)s (months without that day are skipped)", when=when)
    elif rule.pattern == "weekly" and rule.weekday is not None:
        when = _("every %(weekday)s", weekday=WEEKDAY_NAMES[rule.weekday])
    elif rule.pattern == "biweekly" and rule.weekday is not None:
        when = _("every other %(weekday)s", weekday=WEEKDAY_NAMES[rule.weekday])
    elif rule.pattern == "once":
        local = rule.starts_at.astimezone(rule.zone)
        when = _("once, on %(date)s", date=format_local(local, "%A %d %B %Y"))
    else:
        return _("an incomplete rule")
    if rule.rotation_time and rule.rotation_time != rule.time_of_day:
        return _(
            "%(when)s alternating between %(first)s and %(second)s %(zone)s",
            when=when,
            first=rule.time_of_day,
            second=rule.rotation_time,
            zone=rule.timezone,
        )
    return _("%(when)s at %(time)s %(zone)s", when=when, time=rule.time_of_day, zone=rule.timezone)


def _fires(trig: CronTrigger, start: datetime) -> Iterator[datetime]:
    """Fire times of a trigger from `start`, once per wall-clock time (repeated hour: first)."""
    previous: datetime | None = None
    now = start
    for _step in range(MAX_STEPS):
        fire = trig.get_next_fire_time(previous, now)
        if fire is None:
            return
        previous = now = fire
        if fire.fold == 1:
            # The second pass of a repeated wall time; the first (daylight) one was kept.
            continue
        yield fire


def _rotated(rule: Rule, fire: datetime) -> datetime:
    """The instant of the rotation time on the local date of a fire (same DST rules)."""
    local_day: date = fire.date()
    day_trigger = CronTrigger(
        year=local_day.year,
        month=local_day.month,
        day=local_day.day,
        hour=parse_time(rule.rotation_time or rule.time_of_day).hour,
        minute=parse_time(rule.rotation_time or rule.time_of_day).minute,
        second=0,
        timezone=rule.zone,
    )
    start = datetime.combine(local_day, time(0), tzinfo=rule.zone)
    return next(_fires(day_trigger, start))


def slots(
    rule: Rule, *, until: datetime, after: datetime | None = None
) -> Iterator[tuple[int, datetime]]:
    """(position, UTC start) of every slot from the rule's start up to `until`.

    Positions count from the series start, so the rotation (even: first time, odd: second time)
    and the every-other-week choice stay stable however often the horizon is filled. Slots
    before `after` are counted but not yielded.
    """
    first_day = rule.starts_at.astimezone(rule.zone).replace(hour=0, minute=0, second=0)
    start = first_day if rule.pattern != "once" else rule.starts_at.astimezone(rule.zone)
    if rule.pattern == "once":
        start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    position = 0
    weeks = 0
    end = min(until, rule.until_at) if rule.until_at else until
    for fire in _fires(trigger(rule), start):
        fire_utc = fire.astimezone(UTC)
        if fire_utc < rule.starts_at and rule.pattern != "once":
            continue
        if fire_utc > end:
            return
        if rule.pattern == "biweekly":
            weeks += 1
            if (weeks - 1) % 2:
                continue
        when = fire_utc
        if rule.rotation_time and position % 2 == 1:
            when = _rotated(rule, fire).astimezone(UTC)
        if after is None or when >= after:
            yield position, when
        position += 1
        if rule.pattern == "once":
            return


def next_slots(rule: Rule, *, after: datetime, count: int = 6) -> list[tuple[int, datetime]]:
    """The next `count` slots starting at or after `after` (for the preview)."""
    found: list[tuple[int, datetime]] = []
    horizon = after + timedelta(days=366 * 3)
    for item in slots(rule, until=horizon, after=after):
        found.append(item)
        if len(found) >= count:
            break
    return found


def add_months(moment: datetime, months: int) -> datetime:
    """A moment some calendar months later (day clamped to 28 to stay valid)."""
    month_index = moment.month - 1 + months
    return moment.replace(
        year=moment.year + month_index // 12, month=month_index % 12 + 1, day=min(moment.day, 28)
    )
