"""The `exchange` command, run as a real process the way an operator runs it."""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from forum import create_app
from forum.crypto import envelope
from forum.extensions import db
from forum.members import services as member_services
from forum.ops import keys as key_ops
from tests.platform.helpers import closed_port
from tests.support.app import PG_URL
from tests.support.members import test_password_hash

ROOT = Path(__file__).resolve().parents[2]
# Every test here runs `exchange` as a real process (a new interpreter each time).
pytestmark = pytest.mark.slow

STRONG_SECRET = "k3J9-very-long-random-secret-for-tests-0123456789abcdef"


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without any EXCHANGE_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def exchange(
    cwd: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `exchange ARGS` in `cwd` and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "forum.cli", *args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Running:
    """A long-running `exchange` process whose output lines are collected as they come."""

    def __init__(self, cwd: Path, *args: str, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "forum.cli", *args],
            cwd=cwd,
            env=environment(PYTHONUNBUFFERED="1", **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, fragment: str, seconds: float = 60) -> bool:
        """True once a line containing `fragment` appeared (bounded wait)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(fragment in line for line in self.lines):
                return True
            if self.process.poll() is not None and not self.reader.is_alive():
                return any(fragment in line for line in self.lines)
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """SIGTERM by pid, then wait (SIGKILL if it does not stop)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    @property
    def output(self) -> str:
        return "".join(self.lines)


def write_config(folder: Path, body: str) -> Path:
    path = folder / "exchange.toml"
    path.write_text(body, encoding="utf-8")
    path.chmod(0o600)
    return path


def instance_config(folder: Path, *, database: str = "", extra: str = "") -> Path:
    """A config with a strong secret and an instance folder inside `folder`."""
    return write_config(
        folder,
        f'[app]\nsecret_key = "{STRONG_SECRET}"\ninstance_path = "{folder / "instance"}"\n'
        f'[database]\nurl = "{database}"\n[security]\ncookie_secure = false\n'
        f"[scheduler]\nlock_retry_seconds = 1\n{extra}",
    )


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# --- init ----------------------------------------------------------------------------------


def test_init_prepares_a_private_instance_and_is_idempotent(tmp_path: Path) -> None:
    first = exchange(tmp_path, "init")
    assert first.returncode == 0, first.stderr
    instance = tmp_path / "instance"
    config, keyring, database = (
        instance / "exchange.toml",
        instance / "keyring.json",
        instance / "exchange.db",
    )
    assert mode(config) == mode(keyring) == mode(database) == 0o600
    assert mode(instance) == 0o700
    assert "secret_key" in config.read_text()
    before = (config.read_bytes(), keyring.read_bytes())
    second = exchange(tmp_path, "init")
    assert second.returncode == 0, second.stderr
    assert (config.read_bytes(), keyring.read_bytes()) == before
    assert "Wrote" not in second.stdout and "Created the keyring" not in second.stdout


def test_init_prints_a_setup_link_for_the_first_coordinator(tmp_path: Path) -> None:
    without = exchange(tmp_path, "init")
    assert "--coordinator-email" in without.stdout and "/invite/" not in without.stdout
    result = exchange(tmp_path, "init", "--coordinator-email", "first@example.org")
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8080/invite/" in result.stdout
    for name in ("exchange.db", "exchange.db-wal", "exchange.db-shm"):
        stored = tmp_path / "instance" / name
        if stored.exists():
            assert b"first@example.org" not in stored.read_bytes(), name


def test_sqlite_database_has_wal_and_secure_delete_after_init(tmp_path: Path) -> None:
    config = instance_config(tmp_path)
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    raw = sqlite3.connect(tmp_path / "instance" / "exchange.db")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()
    app = create_app(config_path=config)
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        db.engine.dispose()


# --- configuration errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (f'[app]\nsecret_key = "{STRONG_SECRET}"\nbogus_key = 1\n', "app.bogus_key"),
        ('[app]\nname = "Exchange"\n', "app.secret_key"),
        ('[app]\nsecret_key = "changeme"\n', "app.secret_key"),
        (f'[app]\nsecret_key = "{STRONG_SECRET}"\n[server]\nport = "many"\n', "server.port"),
    ],
    ids=["unknown-key", "missing-secret", "weak-secret", "wrong-type"],
)
def test_configuration_error_stops_with_one_sentence_naming_the_key(
    tmp_path: Path, body: str, key: str
) -> None:
    config = write_config(tmp_path, body)
    result = exchange(tmp_path, "--config", str(config), "init")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert key in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_environment_setting_stops_the_start(tmp_path: Path) -> None:
    result = exchange(tmp_path, "init", EXCHANGE_APP_SECRETKEY="x")
    assert result.returncode == 2
    assert "app.secretkey" in result.stderr and "Traceback" not in result.stderr


def test_missing_keyring_stops_the_start_clearly(tmp_path: Path) -> None:
    config = instance_config(tmp_path)
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    (tmp_path / "instance" / "keyring.json").unlink()
    result = exchange(tmp_path, "--config", str(config), "keys", "status")
    assert result.returncode == 2
    assert "keyring" in result.stderr and "Traceback" not in result.stderr


def test_a_foreign_keyring_is_refused(tmp_path: Path) -> None:
    config = instance_config(tmp_path)
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    keyring = tmp_path / "instance" / "keyring.json"
    keyring.unlink()
    other = tmp_path / "other"
    other.mkdir()
    assert exchange(other, "init").returncode == 0
    keyring.write_bytes((other / "instance" / "keyring.json").read_bytes())
    keyring.chmod(0o600)
    result = exchange(tmp_path, "--config", str(config), "serve", "--port", str(closed_port()))
    assert result.returncode == 2
    assert "not the keyring that belongs to this database" in result.stderr


# --- keys ----------------------------------------------------------------------------------


def _member_with_address(config: Path, address: str) -> str:
    app = create_app(config_path=config)
    with app.app_context():
        member = member_services.create_member(
            email=address, name="Rotation Canary", password_hash=test_password_hash()
        )
        db.session.commit()
        member_id = member.id
        db.engine.dispose()
    return member_id


def _open_member(config: Path, address: str) -> tuple[str, str]:
    app = create_app(config_path=config)
    with app.app_context():
        member = member_services.find_member_by_email(address)
        assert member is not None
        opened = (member.email, member.display_name)
        db.session.remove()
        db.engine.dispose()
    return opened


def test_keys_rotate_rewraps_everything_and_keeps_it_readable(tmp_path: Path) -> None:
    config = instance_config(tmp_path)
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    _member_with_address(config, "rotate@example.org")
    keyring = tmp_path / "instance" / "keyring.json"
    old = json.loads(keyring.read_text())["current"]

    rotated = exchange(tmp_path, "--config", str(config), "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    state = json.loads(keyring.read_text())
    new = state["current"]
    assert new != old and set(state["keks"]) == {old, new}
    assert mode(keyring) == 0o600
    status = exchange(tmp_path, "--config", str(config), "keys", "status").stdout
    assert f"{old}: 0 data keys" in status and f"{new} (current)" in status
    assert _open_member(config, "rotate@example.org") == ("rotate@example.org", "Rotation Canary")

    retired = exchange(tmp_path, "--config", str(config), "keys", "retire", old)
    assert retired.returncode == 0, retired.stderr
    assert set(json.loads(keyring.read_text())["keks"]) == {new}
    assert _open_member(config, "rotate@example.org") == ("rotate@example.org", "Rotation Canary")
    refused = exchange(tmp_path, "--config", str(config), "keys", "retire", new)
    assert refused.returncode == 1 and "current key cannot be retired" in refused.stderr


def test_a_key_still_wrapping_data_keys_cannot_be_retired(tmp_path: Path) -> None:
    config = instance_config(tmp_path)
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    _member_with_address(config, "busy@example.org")
    app = create_app(config_path=config)
    with app.app_context():
        keyring = envelope.keyring()
        old = keyring.current
        keyring.add_kek()  # a new current KEK, but nothing rewrapped yet
        keyring.save()
        envelope.ensure_keyring_matches()
        db.session.commit()
        with pytest.raises(Exception, match="still wraps"):
            key_ops.retire(old)
        db.session.rollback()
        assert old in keyring.keks
        db.engine.dispose()


# --- invite --------------------------------------------------------------------------------


def test_invite_prints_a_one_time_link(tmp_path: Path) -> None:
    config = instance_config(tmp_path)
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    result = exchange(
        tmp_path,
        "--config",
        str(config),
        "invite",
        "new@example.org",
        "--role",
        "coordinator",
        "--organisation",
        "Victim Support Europe",
    )
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8080/invite/" in result.stdout
    token = result.stdout.rsplit("/invite/", 1)[1].strip()
    assert len(token) >= 22  # at least 128 bits


# --- worker and serve ----------------------------------------------------------------------


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


# --- backup and restore --------------------------------------------------------------------


def test_backup_and_restore_into_a_new_instance_with_the_same_keyring(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    config = instance_config(source)
    assert exchange(source, "--config", str(config), "init").returncode == 0
    _member_with_address(config, "kept@example.org")
    archive = tmp_path / "exchange.backup"
    made = exchange(source, "--config", str(config), "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert b"kept@example.org" not in archive.read_bytes()

    target = tmp_path / "target"
    (target / "instance").mkdir(parents=True)
    target_config = instance_config(target)
    keyring = target / "instance" / "keyring.json"
    keyring.write_bytes((source / "instance" / "keyring.json").read_bytes())
    keyring.chmod(0o600)
    restored = exchange(target, "--config", str(target_config), "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert _open_member(target_config, "kept@example.org") == (
        "kept@example.org",
        "Rotation Canary",
    )
    again = exchange(target, "--config", str(target_config), "restore", str(archive))
    assert again.returncode == 1 and "not empty" in again.stderr
