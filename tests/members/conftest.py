"""Fixtures of the members feature's tests: browsers that carry CSRF and sessions, a coordinator
(helpers for invites, registration, sign-in and codes: tests.support.accounts)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from forum.members.models import Member
from tests.support.accounts import MemberBrowser


@pytest.fixture
def browser(app: Flask) -> MemberBrowser:
    """An anonymous browser (CSRF on)."""
    return MemberBrowser(app.test_client())


@pytest.fixture
def make_browser(app: Flask) -> Any:
    """Factory: make_browser(member) gives a browser signed in as that member."""

    def _make(member: Member | None = None) -> MemberBrowser:
        made = MemberBrowser(app.test_client())
        if member is not None:
            made.sign_in_as(member)
        return made

    return _make


@pytest.fixture
def coordinator(members: Any) -> Member:
    return members.coordinator(name="Clara Coordinator")
