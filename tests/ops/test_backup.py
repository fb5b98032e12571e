"""Encrypted backups: a round trip into an empty instance, and nothing readable without the keyring."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import make_url

from forum import create_app
from forum.crypto.envelope import ensure_keyring_matches, keyring
from forum.crypto.keyring import create_keyring, load_keyring
from forum.extensions import db
from forum.members.services import find_member_by_email
from forum.ops.backup import MAGIC, BackupError, read_header, restore_backup, write_backup
from tests.support.app import PG_URL, make_test_config
from tests.support.members import Members

CANARY_NAME = "Zephyrine Quarterbridge-Canary"
CANARY_EMAIL = "canary-7f3a9c@backup.example.org"
CANARY_FILE = b"attachment canary 51c0ffee: never in a backup in the clear"


def _attachments(app: Flask) -> Path:
    configured = app.config["EXCHANGE"]["uploads"]["path"]
    return Path(configured or Path(app.instance_path) / "attachments")


def _fill(app: Flask, members: Members) -> None:
    members.make(name=CANARY_NAME, email=CANARY_EMAIL)
    folder = _attachments(app)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ab" / "cd").mkdir(parents=True)
    # The attachment store holds only sealed files; the canary shows the backup is encrypted anyway.
    (folder / "ab" / "cd" / "abcd0001").write_bytes(CANARY_FILE)


@pytest.fixture
def empty_target(tmp_path: Path, backend: str, app: Flask) -> tuple[Path, str]:
    """A second, empty instance folder holding a copy of the keyring, and its database URL."""
    target = tmp_path / "restored"
    target.mkdir()
    shutil.copy2(Path(app.instance_path) / "keyring.json", target / "keyring.json")
    if backend == "sqlite":
        return target, f"sqlite:///{target / 'exchange.db'}"
    url = make_url(PG_URL)
    name = f"{url.database}_restore"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return target, url.set(database=name).render_as_string(hide_password=False)


def _target_app(folder: Path, url: str) -> Flask:
    config = make_test_config(folder, "sqlite", None)
    config["database"]["url"] = url
    return create_app(config, check_keyring=False)


def test_backup_round_trips_into_an_empty_instance(
    app: Flask, members: Members, tmp_path: Path, empty_target: tuple[Path, str]
) -> None:
    _fill(app, members)
    path = tmp_path / "exchange.backup"
    summary = write_backup(db.engine, keyring(), _attachments(app), path)
    assert summary.attachment_files == 1
    assert path.stat().st_mode & 0o777 == 0o600

    folder, url = empty_target
    target = _target_app(folder, url)
    with target.app_context():
        restored = restore_backup(db.engine, keyring(), _attachments(target), path)
        assert restored.attachment_files == 1
        ensure_keyring_matches()
        member = find_member_by_email(CANARY_EMAIL)
        assert member is not None and member.display_name == CANARY_NAME
        assert (_attachments(target) / "ab" / "cd" / "abcd0001").read_bytes() == CANARY_FILE
        db.session.remove()
        db.engine.dispose()


def test_backup_file_holds_no_canary_in_the_clear_and_no_keyring(
    app: Flask, members: Members, tmp_path: Path
) -> None:
    _fill(app, members)
    path = tmp_path / "exchange.backup"
    write_backup(db.engine, keyring(), _attachments(app), path)
    data = path.read_bytes()
    assert data.startswith(MAGIC)
    for secret in (CANARY_NAME.encode(), CANARY_EMAIL.encode(), CANARY_FILE):
        assert secret not in data
    for kek in keyring().keks.values():
        assert kek not in data
    assert keyring().index_key not in data
    assert read_header(path)["kek_id"] == keyring().current


def test_restore_refuses_a_non_empty_database(app: Flask, members: Members, tmp_path: Path) -> None:
    _fill(app, members)
    path = tmp_path / "exchange.backup"
    write_backup(db.engine, keyring(), _attachments(app), path)
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(db.engine, keyring(), tmp_path / "elsewhere", path)


def test_a_backup_cannot_be_read_without_its_keyring(
    app: Flask, members: Members, tmp_path: Path, empty_target: tuple[Path, str]
) -> None:
    _fill(app, members)
    path = tmp_path / "exchange.backup"
    write_backup(db.engine, keyring(), _attachments(app), path)
    stranger = tmp_path / "stranger.json"
    create_keyring(stranger)
    folder, url = empty_target
    target = _target_app(folder, url)
    with target.app_context():
        with pytest.raises(BackupError, match="does not hold key"):
            restore_backup(
                db.engine, load_keyring(stranger, environ={}), _attachments(target), path
            )
        db.engine.dispose()


@pytest.mark.parametrize("damage", ["flip", "truncate", "drop_last_chunk"])
def test_an_altered_backup_restores_nothing(
    app: Flask, members: Members, tmp_path: Path, empty_target: tuple[Path, str], damage: str
) -> None:
    _fill(app, members)
    path = tmp_path / "exchange.backup"
    write_backup(db.engine, keyring(), _attachments(app), path)
    data = bytearray(path.read_bytes())
    (header_length,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    body = len(MAGIC) + 4 + header_length
    if damage == "flip":
        data[body + 40] ^= 0x01
    elif damage == "truncate":
        del data[-10:]
    else:
        (first,) = struct.unpack(">I", data[body : body + 4])
        if body + 4 + 12 + first == len(data):  # one chunk only: keep none of it
            del data[body:]
        else:
            del data[body + 4 + 12 + first :]
    path.write_bytes(bytes(data))
    folder, url = empty_target
    target = _target_app(folder, url)
    with target.app_context():
        with pytest.raises(BackupError):
            restore_backup(db.engine, keyring(), _attachments(target), path)
        assert not db.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_a_backup_never_overwrites_a_file(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "exists.backup"
    path.write_bytes(b"precious")
    with pytest.raises(BackupError, match="already exists"):
        write_backup(db.engine, keyring(), _attachments(app), path)
    assert path.read_bytes() == b"precious"
