"""Fixtures of the platform tests."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, g

from forum.extensions import db
from forum.members.models import Member
from tests.conftest import Browser


class FreshBrowser(Browser):
    """A browser that ends the test's open read transaction before each request.

    The Flask test client runs requests inside the test's own app context, so they share its
    database session; a read left open by the test (or by the CSRF probe) would otherwise turn a
    POST's `BEGIN IMMEDIATE` on SQLite into a warning (an error under -W error). They share its
    `g` too, where Flask-Login caches the signed-in member: it is emptied before each request,
    or a second browser in the same test would be served as the first one's member.
    """

    def _fresh(self) -> None:
        db.session.commit()
        for name in list(vars(g)):
            delattr(g, name)

    def csrf_token(self) -> str:
        self._fresh()
        return super().csrf_token()

    def get(self, url: str, **kwargs: Any) -> Any:
        self._fresh()
        return super().get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token())
        self._fresh()
        return self.client.post(url, data=data, **kwargs)


@pytest.fixture
def make_browser(app: Flask) -> Any:
    """Factory: make_browser(member) gives a signed-in browser (see FreshBrowser)."""

    def _make(member: Member | None = None) -> Browser:
        browser = FreshBrowser(app.test_client())
        return browser.sign_in_as(member) if member is not None else browser

    return _make
