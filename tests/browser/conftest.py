"""Browser fixtures: the application served by a real threaded WSGI server on loopback, and
Debian's Chromium driven through Playwright.

Browser tests run on SQLite only: the live server owns its own app (never the parametrised
`app` fixture), so a test here is not repeated per database backend. Fixtures:

- ``live_server``: ``.url`` (http://127.0.0.1:<port>), ``.app``, ``.instance``, ``.mailbox``;
  the test thread has the live app's context pushed, so services and ``live_members`` work.
- ``live_members``: builds members through the members service in the live app's database.
- ``chromium`` (tests/conftest.py): one headless Chromium for the whole run; ``page``: a fresh context and page per test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

from forum import create_app
from forum.crypto.envelope import ensure_keyring_matches
from forum.extensions import db
from forum.notify.live import stop_listener
from tests.support.app import make_test_config
from tests.support.live import PAGE_TIMEOUT_MS, LiveServer
from tests.support.mail import Mailbox
from tests.support.members import Members
from tests.support.net import free_port


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_server(
    instance: Path, smtp_server: tuple[Controller, Mailbox], mailbox: Mailbox
) -> Iterator[LiveServer]:
    """The app on a fresh SQLite database, served by a threaded WSGI server on 127.0.0.1."""
    port = free_port()
    config = make_test_config(instance, "sqlite", smtp_server[0].port)
    config["app"]["base_url"] = f"http://127.0.0.1:{port}"
    application = create_app(config, check_keyring=False)
    with application.app_context():
        db.create_all()
        ensure_keyring_matches()
        db.session.commit()
    server = make_server("127.0.0.1", port, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    context = application.app_context()
    context.push()
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{port}",
            app=application,
            instance=instance,
            mailbox=mailbox,
            server=server,
        )
    finally:
        stop_listener(application)  # started by the first page that opened the live channel
        db.session.remove()
        context.pop()
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def live_members(live_server: LiveServer) -> Members:
    """Members built through the service in the live server's database."""
    return Members()


@pytest.fixture
def page(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser context and page (no cookies from other tests), closed after the test."""
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
