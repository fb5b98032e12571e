"""Journeys' served Exchange: `exchange serve` started the way the README says, on an empty
folder, in a process of its own, with mail going to the run's local SMTP server."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from tests.support.app import PG_URL
from tests.support.mail import Mailbox
from tests.support.net import free_port

# How long a person waits for one page or action before calling it broken.
PAGE_TIMEOUT_MS = 20_000
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# The `exchange` command that `pip install -e .` put beside this interpreter.
EXCHANGE = str(Path(sys.executable).with_name("exchange"))
SETUP_LINK = re.compile(r"http://127\.0\.0\.1:\d+/invite/[A-Za-z0-9_\-]+")


@dataclass
class ServedExchange:
    """One `exchange serve` process on an empty folder, and what it printed."""

    folder: Path
    url: str
    process: subprocess.Popen[str]
    console: Path
    mailbox: Mailbox
    env: dict[str, str] = field(default_factory=dict)

    def link(self, path: str) -> str:
        """An absolute URL on the served address."""
        return self.url + path

    def console_text(self) -> str:
        """Everything the server printed so far."""
        return self.console.read_text(errors="replace")

    def setup_link(self) -> str:
        """The one-time setup link printed on the first start."""
        match = SETUP_LINK.search(self.console_text())
        assert match, f"no setup link on the console:\n{self.console_text()[-2000:]}"
        return match.group(0)

    def exchange(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another `exchange` command in the same folder, as an operator would."""
        return subprocess.run(
            [EXCHANGE, *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def mail_link(self, address: str, pattern: str, timeout: float = 75.0) -> str:
        """The first link matching `pattern` in the newest e-mail to `address`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.mailbox.to(address)):
                body = message.get_body(preferencelist=("plain",))
                text = body.get_content() if body is not None else ""
                found = re.search(pattern, text)
                if found:
                    return found.group(0)
            time.sleep(0.2)
        received = [str(m["To"]) for m in self.mailbox.messages]
        raise AssertionError(
            f"no e-mail to {address} with a link like {pattern}; received for {received}; "
            f"console:\n{self.console_text()[-1500:]}"
        )


def wait_healthy(url: str, process: subprocess.Popen[str], console: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exchange serve exited:\n{console.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"exchange serve did not answer /healthz:\n{console.read_text()[-3000:]}")


@contextmanager
def empty_database(backend: str) -> Iterator[str | None]:
    """None for the embedded SQLite default; else a new, empty PostgreSQL database, dropped after."""
    if backend != "postgresql":
        yield None
        return
    name = "exchange_journey_" + secrets.token_hex(4)
    server = urlsplit(PG_URL)
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server._replace(path="/" + name).geturl()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def serve(
    tmp_path: Path,
    database_url: str | None,
    smtp_port: int,
    mailbox: Mailbox,
    settings: dict[str, str] | None = None,
) -> Iterator[ServedExchange]:
    """Start `exchange serve` on an empty folder as the README says; stop it by its pid.
    `settings`: more EXCHANGE_<SECTION>_<KEY> variables, as a deployment would set them."""
    folder = tmp_path / "exchange"
    folder.mkdir()
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("EXCHANGE_") and key != "PYTEST_ADDOPTS"
    }
    env.update(
        {
            "EXCHANGE_MAIL_SMTP_HOST": "127.0.0.1",
            "EXCHANGE_MAIL_SMTP_PORT": str(smtp_port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["EXCHANGE_DATABASE_URL"] = database_url
    env.update(settings or {})
    console = folder.parent / "serve.log"
    with console.open("w") as out:
        process = subprocess.Popen(  # the README's command, with a port of the run's own
            [
                EXCHANGE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--coordinator-email",
                "first.coordinator@example.org",
            ],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, console)
        yield ServedExchange(folder, url, process, console, mailbox, env)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the phone's screen (0: no sideways scroll)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))
