"""Encrypted, consistent backups of the database and the attachment store — never the keyring.

A backup file is:
    MAGIC | u32 header length | header (JSON) | chunks
    chunk = u32 length | 12-byte nonce | AES-256-GCM(ciphertext + tag)
The payload is a gzip'd tar of the database (SQLite: a copy made with SQLite's online backup
API; PostgreSQL: `pg_dump --format=custom`) and the attachment folder. It is encrypted under a
random backup key that is stored in the header wrapped by the keyring's current KEK. Each chunk's
associated data binds it to this backup's header, its position and whether it is the last one,
so chunks cannot be reordered, dropped, truncated or spliced from another backup.
Without the keyring (or with a keyring that no longer holds that KEK) a backup cannot be read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from forum.crypto.keyring import Keyring, KeyringError
from forum.db import utcnow

MAGIC = b"INVICTM-EXCHANGE-BACKUP\n"
FORMAT = 1
CHUNK_BYTES = 1024 * 1024
NONCE_BYTES = 12
SQLITE_MEMBER = "database.sqlite"
PG_MEMBER = "database.pgdump"
ATTACHMENTS_MEMBER = "attachments"


class BackupError(Exception):
    """A backup could not be written or restored; the message says why in one sentence."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds."""

    path: Path
    database: str
    kek_id: str
    created_at: str
    attachment_files: int
    size_bytes: int


def _wrap_context(kek_id: str) -> bytes:
    return f"backup-key:{kek_id}".encode()


def _chunk_context(header_digest: bytes, index: int, final: bool) -> bytes:
    return b"backup-chunk:" + header_digest + struct.pack(">Q?", index, final)


def _pg_dsn(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq address without the password, and an environment carrying it (not argv)."""
    url = engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def _dump_database(engine: Engine, workdir: Path) -> tuple[str, Path]:
    if engine.dialect.name == "sqlite":
        source_path = engine.url.database
        if not source_path:
            raise BackupError("The SQLite database has no file to back up.")
        target = workdir / SQLITE_MEMBER
        source = sqlite3.connect(source_path)
        destination = sqlite3.connect(target)
        try:
            # The online backup API copies a consistent snapshot while others keep writing.
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        return "sqlite", target
    if engine.dialect.name == "postgresql":
        dsn, env = _pg_dsn(engine)
        target = workdir / PG_MEMBER
        result = subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
                dsn,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1:]}")
        return "postgresql", target
    raise BackupError(f"Backups of {engine.dialect.name} databases are not supported.")


def _build_payload(engine: Engine, attachments: Path, workdir: Path) -> tuple[str, Path, int]:
    kind, dump = _dump_database(engine, workdir)
    payload = workdir / "payload.tar.gz"
    count = 0
    with tarfile.open(payload, "w:gz") as archive:
        archive.add(dump, arcname=dump.name)
        if attachments.is_dir():
            for file in sorted(attachments.rglob("*")):
                if file.is_file():
                    archive.add(
                        file, arcname=f"{ATTACHMENTS_MEMBER}/{file.relative_to(attachments)}"
                    )
                    count += 1
    return kind, payload, count


def write_backup(engine: Engine, keyring: Keyring, attachments: Path, path: Path) -> BackupSummary:
    """Write an encrypted backup of the database and attachments to `path` (atomically)."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; a backup never overwrites a file.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="exchange-backup-", dir=path.parent) as tmp:
        workdir = Path(tmp)
        kind, payload, count = _build_payload(engine, attachments, workdir)
        backup_key = AESGCM.generate_key(bit_length=256)
        kek_id = keyring.current
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + keyring.aead(kek_id).encrypt(nonce, backup_key, _wrap_context(kek_id))
        created_at = utcnow().isoformat()
        header = json.dumps(
            {
                "format": FORMAT,
                "database": kind,
                "kek_id": kek_id,
                "wrapped_key": base64.b64encode(wrapped).decode(),
                "created_at": created_at,
                "attachment_files": count,
            },
            sort_keys=True,
        ).encode()
        digest = hashlib.sha256(header).digest()
        cipher = AESGCM(backup_key)
        partial = workdir / "backup.partial"
        with payload.open("rb") as source, partial.open("wb") as out:
            out.write(MAGIC + struct.pack(">I", len(header)) + header)
            for index, chunk, final in _chunks(source):
                chunk_nonce = os.urandom(NONCE_BYTES)
                sealed = cipher.encrypt(chunk_nonce, chunk, _chunk_context(digest, index, final))
                out.write(struct.pack(">I", len(sealed)) + chunk_nonce + sealed)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    return BackupSummary(path, kind, kek_id, created_at, count, path.stat().st_size)


def _chunks(source: IO[bytes]) -> Iterator[tuple[int, bytes, bool]]:
    index = 0
    current = source.read(CHUNK_BYTES)
    while True:
        following = source.read(CHUNK_BYTES)
        final = not following
        yield index, current, final
        if final:
            return
        index += 1
        current = following


def read_header(path: Path) -> dict[str, Any]:
    """The backup's header (not secret: kind, KEK id, creation time, file count)."""
    with Path(path).open("rb") as handle:
        return _read_header(handle)[0]


def _read_header(handle: IO[bytes]) -> tuple[dict[str, Any], bytes]:
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupError("This file is not an INVICTM Exchange backup.")
    (length,) = struct.unpack(">I", handle.read(4))
    raw = handle.read(length)
    try:
        header = json.loads(raw)
    except ValueError:
        raise BackupError("The backup's header is damaged.") from None
    if header.get("format") != FORMAT:
        raise BackupError("The backup was written in a format this version cannot read.")
    return header, raw


def _decrypt_payload(path: Path, keyring: Keyring, out: IO[bytes]) -> dict[str, Any]:
    size = Path(path).stat().st_size
    with Path(path).open("rb") as handle:
        header, raw = _read_header(handle)
        kek_id = header["kek_id"]
        if kek_id not in keyring.keks:
            raise BackupError(
                f"The keyring does not hold key {kek_id}, which this backup was sealed with; "
                "restore needs the keyring (or an archived keyring) that holds it."
            )
        wrapped = base64.b64decode(header["wrapped_key"])
        try:
            key = keyring.aead(kek_id).decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_context(kek_id)
            )
        except (InvalidTag, KeyringError):
            raise BackupError("The backup's key does not open with this keyring.") from None
        cipher = AESGCM(key)
        digest = hashlib.sha256(raw).digest()
        index = 0
        while True:
            prefix = handle.read(4)
            if len(prefix) < 4:
                raise BackupError("The backup is truncated: its last part is missing.")
            (length,) = struct.unpack(">I", prefix)
            nonce = handle.read(NONCE_BYTES)
            sealed = handle.read(length)
            if len(sealed) != length:
                raise BackupError("The backup is truncated.")
            final = handle.tell() == size
            try:
                out.write(cipher.decrypt(nonce, sealed, _chunk_context(digest, index, final)))
            except InvalidTag:
                raise BackupError(
                    "The backup has been altered or damaged; nothing was restored."
                ) from None
            if final:
                return header
            index += 1


def _database_is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def restore_backup(
    engine: Engine, keyring: Keyring, attachments: Path, path: Path
) -> BackupSummary:
    """Restore a backup into an empty instance (empty database, empty attachment folder)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"There is no backup file at {path}.")
    if not _database_is_empty(engine):
        raise BackupError("The database is not empty; restore only into a new, empty instance.")
    if attachments.is_dir() and any(attachments.iterdir()):
        raise BackupError(f"The attachment folder {attachments} is not empty.")
    with tempfile.TemporaryDirectory(prefix="exchange-restore-") as tmp:
        workdir = Path(tmp)
        payload = workdir / "payload.tar.gz"
        with payload.open("wb") as out:
            header = _decrypt_payload(path, keyring, out)
        if header["database"] != engine.dialect.name:
            raise BackupError(
                f"This backup holds a {header['database']} database; the instance uses "
                f"{engine.dialect.name}."
            )
        extracted = workdir / "extracted"
        with tarfile.open(payload, "r:gz") as archive:
            archive.extractall(extracted, filter="data")
        engine.dispose()
        _restore_database(engine, header["database"], extracted)
        source = extracted / ATTACHMENTS_MEMBER
        count = 0
        if source.is_dir():
            attachments.mkdir(parents=True, exist_ok=True)
            for file in sorted(source.rglob("*")):
                if file.is_file():
                    target = attachments / file.relative_to(source)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, target)
                    count += 1
    return BackupSummary(
        path, header["database"], header["kek_id"], header["created_at"], count, path.stat().st_size
    )


def _restore_database(engine: Engine, kind: str, extracted: Path) -> None:
    if kind == "sqlite":
        target = Path(engine.url.database or "")
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        source = sqlite3.connect(extracted / SQLITE_MEMBER)
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        return
    dsn, env = _pg_dsn(engine)
    result = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(extracted / PG_MEMBER),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip().splitlines()[-1:]}")
