"""Fixtures of the threads tests: threads built through forum.threads.services."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.support.threads import Threads


@pytest.fixture
def threads(app: Flask) -> Threads:
    """Build threads through the service: threads.start(author, label=...), threads.reply(...)."""
    return Threads()
