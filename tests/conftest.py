"""Shared fixtures: an app on SQLite (and on PostgreSQL when EXCHANGE_TEST_DATABASE_URL is set),
a real local SMTP server, members built through services, signed-in test clients with CSRF on,
and a guard that fails any test reaching for a network address other than loopback."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from playwright.sync_api import sync_playwright

from forum import create_app
from forum.crypto.envelope import ensure_keyring_matches
from forum.crypto.keyring import create_keyring
from forum.extensions import db
from forum.members.models import Member
from forum.notify.live import stop_listener
from tests.support.app import backends, make_test_config, reset_postgres
from tests.support.clients import Browser
from tests.support.mail import Mailbox, MailHandler
from tests.support.members import Members
from tests.support.net import free_port, is_loopback

# --- network guard -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that connects anywhere but this machine's loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
            raise AssertionError(f"test tried to reach a non-loopback address: {address!r}")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
            raise AssertionError(f"test tried to reach a non-loopback address: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


# --- a real SMTP server --------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    """A real aiosmtpd server on 127.0.0.1, for the whole run."""
    mailbox = Mailbox()
    controller = Controller(MailHandler(mailbox), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, Mailbox]) -> Mailbox:
    """The SMTP server's mailbox, emptied for this test."""
    smtp_server[1].clear()
    return smtp_server[1]


# --- the application -----------------------------------------------------------------------


@pytest.fixture(params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    """The database this test runs on: every test runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """A fresh instance folder with a new keyring."""
    folder = tmp_path / "instance"
    folder.mkdir()
    create_keyring(folder / "keyring.json")
    return folder


@pytest.fixture
def app(
    instance: Path, backend: str, smtp_server: tuple[Controller, Mailbox], mailbox: Mailbox
) -> Iterator[Flask]:
    """The application on a fresh, empty database, with mail going to the local SMTP server."""
    config = make_test_config(instance, backend, smtp_server[0].port)
    application = create_app(config, check_keyring=False)
    application.config["TESTING"] = True
    with application.app_context():
        if backend == "postgresql":
            reset_postgres()
        db.create_all()
        ensure_keyring_matches()
        db.session.commit()
    with application.app_context():
        yield application
        # A test that reached a live-update route started this app's listener threads.
        stop_listener(application)
        db.session.remove()
        if backend == "postgresql":
            reset_postgres()
        db.engine.dispose()


# --- members and clients -------------------------------------------------------------------


@pytest.fixture
def members(app: Flask) -> Members:
    """Make members through the service: members.make(), members.coordinator()."""
    return Members()


@pytest.fixture
def browser(app: Flask) -> Browser:
    """An anonymous browser (Flask test client, CSRF on)."""
    return Browser(app.test_client())


@pytest.fixture
def make_browser(app: Flask) -> Any:
    """Factory: make_browser(member) gives a browser signed in as that member."""

    def _make(member: Member | None = None) -> Browser:
        browser = Browser(app.test_client())
        return browser.sign_in_as(member) if member is not None else browser

    return _make


# --- Debian's Chromium, one for the whole run (browser tests and journeys) ---------------------

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium, launched once for the run (one Playwright per process)."""
    if not os.path.exists(CHROMIUM_PATH):
        pytest.skip("Debian chromium is not installed")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
