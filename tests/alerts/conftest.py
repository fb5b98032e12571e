"""Fixtures for alert tests: raising alerts through the service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.alerts import raise_alert


@pytest.fixture
def raise_() -> Any:
    """raise_(raiser, **fields) -> Alert, committed."""
    return raise_alert


@pytest.fixture(autouse=True)
def _live_channel(app: Any) -> None:
    """Until create_app registers the live channel's blueprint itself (`forum.notify.live.bp`),
    the alerts tests bring it in: the alerts feature no longer registers platform code."""
    from forum.notify import live

    if live.bp.name not in app.blueprints:
        app.register_blueprint(live.bp)
