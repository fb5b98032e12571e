"""The `exchange` command's long-running processes: workers standing by, and serve."""

from __future__ import annotations

import email
import email.policy
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.platform.cli_helpers import (
    Running,
    exchange,
    instance_config,
)
from tests.platform.helpers import closed_port
from tests.support.app import PG_URL

# --- worker and serve ----------------------------------------------------------------------

# Every test here runs `exchange` as a real process (a new interpreter each time).
pytestmark = pytest.mark.slow


@pytest.fixture
def pg_database() -> Iterator[str]:
    """An empty PostgreSQL schema for a CLI test (skipped without EXCHANGE_TEST_DATABASE_URL)."""
    if not PG_URL:
        pytest.skip("EXCHANGE_TEST_DATABASE_URL is not set")
    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))

    def reset() -> None:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))

    reset()
    yield PG_URL
    reset()
    engine.dispose()


def _second_worker_stands_by_and_takes_over(tmp_path: Path, config: Path) -> None:
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    first = Running(tmp_path, "--config", str(config), "worker")
    second = None
    try:
        assert first.wait_for("holds the scheduler lock"), first.output
        second = Running(tmp_path, "--config", str(config), "worker")
        assert second.wait_for("waits (standby)"), second.output
        assert "holds the scheduler lock" not in second.output
        first.stop()
        assert "Exchange worker stopped." in first.output
        assert second.wait_for("holds the scheduler lock"), second.output
    finally:
        first.stop()
        if second is not None:
            second.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_second_worker_stays_idle_on_postgresql_and_takes_over(
    tmp_path: Path, pg_database: str
) -> None:
    _second_worker_stands_by_and_takes_over(
        tmp_path, instance_config(tmp_path, database=pg_database)
    )


@pytest.mark.slow
def test_second_worker_stays_idle_on_sqlite_and_takes_over(tmp_path: Path) -> None:
    _second_worker_stands_by_and_takes_over(tmp_path, instance_config(tmp_path))


def _get(url: str) -> int:
    request = urllib.request.Request(url, method="GET")  # noqa: S310 - loopback http only
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.mark.slow
def test_serve_starts_answers_on_loopback_and_runs_the_scheduler(tmp_path: Path) -> None:
    port = closed_port()
    server = Running(tmp_path, "serve", "--host", "127.0.0.1", "--port", str(port), "--verbose")
    try:
        assert server.wait_for(f"running at http://127.0.0.1:{port}"), server.output
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status = _get(f"http://127.0.0.1:{port}/")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        assert status == 302  # the start page sends an anonymous visitor to sign in
        sign_in = _get(f"http://127.0.0.1:{port}/sign-in")
        assert sign_in in (200, 302, 404)
        assert server.wait_for("holds the scheduler lock"), server.output
        lock = tmp_path / "instance" / "scheduler.lock"
        assert lock.exists()
    finally:
        server.stop()
    assert server.process.returncode == 0, server.output
    assert "Traceback" not in server.output


@pytest.mark.slow
def test_serve_on_an_empty_folder_keeps_the_console_quiet_and_the_setup_link_in_view(
    tmp_path: Path,
) -> None:
    port = closed_port()
    server = Running(
        tmp_path, "serve", "--port", str(port), "--coordinator-email", "first@example.org"
    )
    try:
        assert server.wait_for("running at"), server.output
        lock = tmp_path / "instance" / "scheduler.lock"
        deadline = time.monotonic() + 30
        while not lock.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(7)  # two rounds of the 3-second urgent sweep
    finally:
        server.stop()
    lines = [line for line in server.lines if line.strip()]
    assert any(f"http://127.0.0.1:{port}/invite/" in line for line in lines), server.output
    assert len(lines) <= 8, server.output  # config, keyring, database, link (2), running at
    assert "INFO" not in server.output and "apscheduler" not in server.output


def _mail_text(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return str(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]


def test_links_follow_the_served_port_in_the_setup_mail_and_in_exchange_invite(
    tmp_path: Path,
) -> None:
    config = instance_config(tmp_path, extra="sweep_seconds = 1\n")
    port = closed_port()
    args = ("--config", str(config))
    server = Running(
        tmp_path, *args, "serve", "--port", str(port), "--coordinator-email", "first@example.org"
    )
    served = f"http://127.0.0.1:{port}/invite/"
    try:
        assert server.wait_for(f"running at http://127.0.0.1:{port}"), server.output
        assert served in server.output
        spool = tmp_path / "instance" / "outbox-mail"
        mails: list[str] = []
        deadline = time.monotonic() + 60
        while not mails and time.monotonic() < deadline:
            found = sorted(spool.glob("*.eml")) if spool.exists() else []
            mails = [_mail_text(path) for path in found]
            time.sleep(0.2)
        invited = exchange(tmp_path, *args, "invite", "second@example.org")
    finally:
        server.stop()
    assert len(mails) == 1 and served in mails[0], server.output
    assert "127.0.0.1:8080" not in mails[0]
    assert invited.returncode == 0, invited.stderr
    assert served in invited.stdout
