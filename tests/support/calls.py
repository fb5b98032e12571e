"""Calls for tests: a fixed "now" and a coordinator's monthly series fields."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum.calls import services

# "Now" in these tests: a fixed instant, so dates and daylight-saving changes are known.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DIAL_IN = "Dial-in +32 2 555 0199, access code 483920#, https://meet.example.org/invictm-7Qx"


def monthly_fields(**overrides: Any) -> services.SeriesFields:
    """The second Thursday of every month at 14:00 Brussels, starting now."""
    values: dict[str, Any] = {
        "title": "INVICTM monthly call",
        "timezone": "Europe/Brussels",
        "time_of_day": "14:00",
        "pattern": "nth_weekday",
        "ordinal": 2,
        "weekday": 3,
        "starts_at": NOW,
        "duration_minutes": 60,
        "description": "Exchange of practice on victim identification.",
        "joining_details": DIAL_IN,
    }
    values.update(overrides)
    return services.SeriesFields(**values)
