"""Fixtures of the calls tests: a coordinator's monthly series, built through the services."""

from __future__ import annotations

from typing import Any

import pytest

from forum.calls import services
from forum.calls.models import CallSeries
from forum.extensions import db
from tests.support.calls import NOW, monthly_fields


@pytest.fixture
def monthly(members: Any) -> CallSeries:
    """A committed monthly series organised by a coordinator, filled from NOW."""
    coordinator = members.coordinator(name="Ana Coordinator")
    series = services.create_series(actor=coordinator, fields=monthly_fields(), now=NOW)
    db.session.commit()
    return series
