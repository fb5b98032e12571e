"""Fixtures for alert tests: raising alerts through the service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.alerts import raise_alert


@pytest.fixture
def raise_() -> Any:
    """raise_(raiser, **fields) -> Alert, committed."""
    return raise_alert
