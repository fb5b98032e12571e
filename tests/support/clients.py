"""A Flask test client with the habits of a browser (CSRF token, one app context per request)."""

from __future__ import annotations

import re
from typing import Any

from flask import has_app_context
from flask.testing import FlaskClient

from forum.extensions import db
from forum.members.models import Member
from forum.members.sessions import SESSION_KEY, start_session

_CSRF_VALUE = re.compile(rb'((?:name="csrf-token" content|name="csrf_token" value)=")[^"]*')


class Browser:
    """A test client with the habits of a browser: it carries the CSRF token in every POST, and
    each of its requests runs in its own app context, as on a real server.

    The `app` fixture keeps one app context pushed, which the test client would otherwise reuse
    (sharing the test's database session and `g`, so one browser's member could leak into
    another's request). The test's transaction is committed before each request and its objects
    expired after, so both sides see committed data only.
    """

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def _run(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        outer = has_app_context()  # a browser used from a plain thread has no test context
        if outer:
            db.session.commit()
        with self.client.application.app_context():
            response = call(*args, **kwargs)
        if outer:
            db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        page = self._run(self.client.get, "/__csrf-probe__").get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, "the base layout carries a csrf-token meta tag"
        return match.group(1)

    @staticmethod
    def page_bytes(response: Any) -> bytes:
        """The response body with its CSRF tokens blanked: a token carries the second it was
        signed, so two pages served a second apart differ there and nowhere else. Comparing
        the rest is how a test shows that a hidden object's page is the missing id's page."""
        return _CSRF_VALUE.sub(rb"\1", response.get_data())

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._run(self.client.get, url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        data = dict(data or {})
        if "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        return self._run(self.client.post, url, data=data, **kwargs)

    def sign_in_as(self, member: Member) -> Browser:
        """Give this browser a real server session for the member (as after password + TOTP)."""
        token = start_session(member)
        db.session.commit()
        with self.client.session_transaction() as session:
            session.clear()
            session[SESSION_KEY] = token
        return self
