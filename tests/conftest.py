"""Shared fixtures: an app on SQLite (and on PostgreSQL when EXCHANGE_TEST_DATABASE_URL is set),
a real local SMTP server, members built through services, signed-in test clients with CSRF on,
and a guard that fails any test reaching for a network address other than loopback."""

from __future__ import annotations

import email
import email.policy
import ipaddress
import os
import re
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright
from sqlalchemy import text

from forum import create_app
from forum.crypto.envelope import ensure_keyring_matches
from forum.crypto.keyring import create_keyring
from forum.extensions import db
from forum.members import services as member_services
from forum.members.models import Member, Organisation
from forum.members.passwords import hash_password
from forum.members.sessions import SESSION_KEY, start_session
from forum.notify.live import stop_listener

PG_URL = os.environ.get("EXCHANGE_TEST_DATABASE_URL", "")
TEST_PASSWORD = "correct horse battery staple 42"
_TEST_HASH: list[str] = []


# --- network guard -------------------------------------------------------------------------


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
    else:
        return True  # unix sockets and the like
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that connects anywhere but this machine's loopback."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise AssertionError(f"test tried to reach a non-loopback address: {address!r}")
        return real_connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address):
            raise AssertionError(f"test tried to reach a non-loopback address: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)


# --- a real SMTP server --------------------------------------------------------------------


@dataclass
class Mailbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.raw.clear()

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.mailbox.lock:
            self.mailbox.raw.append(envelope.content)
            self.mailbox.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    """A real aiosmtpd server on 127.0.0.1, for the whole run."""
    mailbox = Mailbox()
    controller = Controller(_Handler(mailbox), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server: tuple[Controller, Mailbox]) -> Mailbox:
    """The SMTP server's mailbox, emptied for this test."""
    smtp_server[1].clear()
    return smtp_server[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the application -----------------------------------------------------------------------


def _backends() -> list[Any]:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="EXCHANGE_TEST_DATABASE_URL is not set"),
            ],
        ),
    ]


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    """The database this test runs on: every test runs on SQLite and on PostgreSQL."""
    return str(request.param)


def make_test_config(instance: Path, backend: str, smtp_port: int | None) -> dict[str, Any]:
    """Settings for a test app in a fresh instance folder."""
    database_url = PG_URL if backend == "postgresql" else f"sqlite:///{instance / 'exchange.db'}"
    return {
        "app": {
            "secret_key": secrets.token_urlsafe(48),
            "instance_path": str(instance),
            "base_url": "http://127.0.0.1:5000",
        },
        "database": {"url": database_url},
        "security": {"cookie_secure": False},
        "mail": {
            "smtp_host": "127.0.0.1" if smtp_port else "",
            "smtp_port": smtp_port or 25,
            "from_address": "exchange@invictm.test",
        },
        "scheduler": {"enabled": False},
        # Test receivers listen on loopback: the allow-list is how a deployment trusts one.
        "delivery": {"webhook_allow_hosts": "127.0.0.1"},
    }


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
            _reset_postgres()
        db.create_all()
        ensure_keyring_matches()
        db.session.commit()
    with application.app_context():
        yield application
        # A test that reached a live-update route started this app's listener threads.
        stop_listener(application)
        db.session.remove()
        if backend == "postgresql":
            _reset_postgres()
        db.engine.dispose()


def _reset_postgres() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


# --- members and clients -------------------------------------------------------------------


def test_password_hash() -> str:
    """One real Argon2id hash of TEST_PASSWORD, computed once for the run."""
    if not _TEST_HASH:
        _TEST_HASH.append(hash_password(TEST_PASSWORD))
    return _TEST_HASH[0]


test_password_hash.__test__ = False  # type: ignore[attr-defined]


class Members:
    """Builds members through the members service."""

    def __init__(self) -> None:
        self.count = 0

    def organisation(
        self, name: str = "Victim Support Europe", country: str = "BE"
    ) -> Organisation:
        return member_services.get_or_create_organisation(name, country=country, sector="ngo")

    def make(self, role: str = "member", *, commit: bool = True, **fields: Any) -> Member:
        self.count += 1
        n = self.count
        fields.setdefault("email", f"member{n}-{secrets.token_hex(3)}@example.org")
        fields.setdefault("name", f"Member {n}")
        fields.setdefault("country", "BE")
        fields.setdefault("timezone", "Europe/Brussels")
        if "organisation" not in fields:
            fields["organisation"] = self.organisation()
        member = member_services.create_member(
            role=role, password_hash=test_password_hash(), **fields
        )
        if commit:
            db.session.commit()
        return member

    def coordinator(self, **fields: Any) -> Member:
        return self.make("coordinator", **fields)


@pytest.fixture
def members(app: Flask) -> Members:
    """Make members through the service: members.make(), members.coordinator()."""
    return Members()


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
