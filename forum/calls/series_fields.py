"""What an organiser chooses for a recurring series, and the dates such a choice gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from forum.calls.recurrence import Rule, describe, next_slots
from forum.db import utcnow


@dataclass(frozen=True)
class SeriesFields:
    """What an organiser chooses for a recurring series."""

    title: str
    timezone: str
    time_of_day: str
    pattern: str
    starts_at: datetime
    duration_minutes: int = 60
    description: str = ""
    joining_details: str = ""
    ordinal: int | None = None
    weekday: int | None = None
    day_of_month: int | None = None
    rotation_time: str | None = None
    reminder_offsets: Sequence[int] = (7 * 24 * 60, 60)
    is_email_joining_allowed: bool = False

    def rule(self) -> Rule:
        """The recurrence rule of these fields."""
        return Rule(
            pattern=self.pattern,
            timezone=self.timezone,
            time_of_day=self.time_of_day,
            starts_at=self.starts_at,
            ordinal=self.ordinal,
            weekday=self.weekday,
            day_of_month=self.day_of_month,
            rotation_time=self.rotation_time or None,
        )


def preview_series(
    fields: SeriesFields, *, count: int = 6
) -> tuple[list[tuple[int, datetime]], str]:
    """The next dates a series would have and its rule in plain words (RecurrenceError if none)."""
    rule = fields.rule()
    return next_slots(rule, after=max(utcnow(), rule.starts_at), count=count), describe(rule)


def aware(day: date, clock: time, zone: str) -> datetime:
    """A date and wall-clock time in a zone as an aware datetime (skipped hour: shifted forward)."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone))
