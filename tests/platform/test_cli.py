"""The `exchange` command, run as a real process the way an operator runs it: init, configuration,
keys, invites, backup and restore."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from forum import create_app
from forum.crypto import envelope
from forum.extensions import db
from forum.members import services as member_services
from forum.ops import keys as key_ops
from tests.platform.cli_helpers import (  # Running: tests/security imports it from here
    STRONG_SECRET,
    Running,  # noqa: F401
    exchange,
    instance_config,
    mode,
    write_config,
)
from tests.platform.helpers import closed_port
from tests.support.members import test_password_hash

# --- init ----------------------------------------------------------------------------------

# Every test here runs `exchange` as a real process (a new interpreter each time).
pytestmark = pytest.mark.slow


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
