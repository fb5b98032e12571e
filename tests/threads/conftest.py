"""Fixtures of the threads tests: threads built through forum.threads.services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from flask import Flask

from forum.extensions import db
from forum.members.models import Member
from forum.threads import services
from forum.threads.models import Category, Thread
from tests.browser.conftest import (  # noqa: F401 - browser fixtures for test_browser.py
    chromium,
    live_members,
    live_server,
    page,
)
from tests.conftest import Browser


class Threads:
    """Starts threads and replies through the service, committing like a route would."""

    def category(self) -> Category:
        categories = services.ensure_default_categories()
        db.session.commit()
        return categories[0]

    def start(
        self,
        author: Member,
        *,
        label: str = "AMBER",
        title: str = "Working with families after an attack",
        body: str = "What we learned about the first 48 hours.",
        participants: Sequence[Member] = (),
        tags: Sequence[str] = (),
        **kwargs: Any,
    ) -> Thread:
        thread = services.start_thread(
            author=author,
            category=kwargs.pop("category", None) or self.category(),
            title=title,
            body=body,
            label=label,
            participants=participants,
            tags=tags,
            **kwargs,
        )
        db.session.commit()
        return thread

    def reply(self, author: Member, thread: Thread, body: str, **kwargs: Any) -> Any:
        post = services.reply(author=author, thread=thread, body=body, pii_confirmed=True, **kwargs)
        db.session.commit()
        return post


@pytest.fixture
def threads(app: Flask) -> Threads:
    """Build threads through the service: threads.start(author, label=...), threads.reply(...)."""
    return Threads()


class OwnContextBrowser(Browser):
    """A browser whose every request runs in its own app context, as on a real server.

    The `app` fixture keeps one app context pushed, which the test client would reuse (sharing
    the test's session); the test's transaction is ended before each request and its objects
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
def make_browser(app: Flask) -> Any:
    """Factory: make_browser(member) gives a signed-in browser (see OwnContextBrowser)."""

    def _make(member: Member | None = None) -> Browser:
        browser = OwnContextBrowser(app.test_client(), app)
        return browser.sign_in_as(member) if member is not None else browser

    return _make
