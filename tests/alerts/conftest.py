"""Fixtures for alert tests: raising alerts through the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from forum.alerts import services
from forum.alerts.models import Alert
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from tests.conftest import Browser

CANARY = "CANARY-7f3a9-Zeebrugge-harbour"


def raise_alert(raiser: Member, commit: bool = True, **fields: Any) -> Alert:
    """Raise an alert through the service with sensible fields (and a canary in the title)."""
    fields.setdefault("kind", "attack")
    fields.setdefault("title", f"Explosion at {CANARY}")
    fields.setdefault("city", "Brussels")
    fields.setdefault("country", "BE")
    fields.setdefault("occurred_at", utcnow() - timedelta(minutes=20))
    fields.setdefault("needs", f"Psychosocial support; {CANARY} details")
    fields.setdefault("severity", "critical")
    alert = services.raise_alert(raiser, **fields)
    if commit:
        db.session.commit()
    return alert


@pytest.fixture
def raise_() -> Any:
    """raise_(raiser, **fields) -> Alert, committed."""
    return raise_alert


class OwnContextBrowser(Browser):
    """A browser whose every request runs in its own app context, as on a real server.

    The `app` fixture keeps one app context pushed, which the test client would reuse (sharing
    the test's database session and `g`); the test's own transaction is ended before each
    request and its objects expired after, so both sides see committed data only.
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
def make_browser(app: Flask) -> Any:
    """Factory: make_browser(member) gives a signed-in browser (see OwnContextBrowser)."""

    def _make(member: Member | None = None) -> Browser:
        browser = OwnContextBrowser(app.test_client(), app)
        return browser.sign_in_as(member) if member is not None else browser

    return _make
