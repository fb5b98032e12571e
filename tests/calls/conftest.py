"""Fixtures of the calls tests: a coordinator's monthly series, built through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from forum.calls import services
from forum.calls.models import CallSeries
from forum.extensions import db

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


@pytest.fixture
def monthly(members: Any) -> CallSeries:
    """A committed monthly series organised by a coordinator, filled from NOW."""
    coordinator = members.coordinator(name="Ana Coordinator")
    series = services.create_series(actor=coordinator, fields=monthly_fields(), now=NOW)
    db.session.commit()
    return series
