"""Fixtures of the calls tests: a coordinator's monthly series, built through the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from forum.calls import services
from forum.calls.models import CallSeries
from forum.extensions import db
from forum.members.models import Member
from tests.browser.conftest import chromium, live_members, live_server, page  # noqa: F401
from tests.conftest import Browser

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


class OwnContextBrowser(Browser):
    """A browser whose every request runs in its own app context, as on a real server.

    The `app` fixture keeps one app context pushed, which the test client would reuse (sharing
    the test's session); the test's transaction ends before each request and its objects are
    expired after, so both sides see committed data only.
    """

    def __init__(self, client: Any, app: Flask) -> None:
        super().__init__(client)
        self.app = app

    def _run(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        with self.app.app_context():
            response = call(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        return str(self._run(super().csrf_token))

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._run(self.client.get, url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        return self._run(self.client.post, url, data=data, **kwargs)


@pytest.fixture
def browser(app: Flask) -> OwnContextBrowser:
    """An anonymous browser (CSRF on), each request in its own app context."""
    return OwnContextBrowser(app.test_client(), app)


@pytest.fixture
def make_browser(app: Flask) -> Any:
    """Factory: make_browser(member) gives a signed-in browser (see OwnContextBrowser)."""

    def _make(member: Member | None = None) -> Browser:
        own = OwnContextBrowser(app.test_client(), app)
        return own.sign_in_as(member) if member is not None else own

    return _make
