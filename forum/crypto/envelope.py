"""Envelope encryption: per-object data keys wrapped by the keyring, fields sealed with AES-256-GCM.

A sealed field is `version(1) | data key id (16) | nonce (12) | ciphertext+tag`. Its associated
data is the header plus a context naming the row and the column (`post:<id>:body`), so a
ciphertext copied onto another row or column fails to open.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import insert, select

from forum.crypto.keyring import Keyring, KeyringError
from forum.crypto.models import DataKey, KeyringCheck
from forum.db import new_id, utcnow
from forum.extensions import db

FIELD_VERSION = b"\x01"
WRAP_VERSION = b"\x01"
NONCE_BYTES = 12
HEADER_BYTES = 1 + 16
CHECK_PLAINTEXT = b"invictm-exchange keyring check v1"
# Keys made one per small object (a post), read ahead on a cache miss; see _read_ahead.
READ_AHEAD_PURPOSES = {"post"}
READ_AHEAD = 200


class SealError(Exception):
    """A sealed value could not be opened: tampered, moved, wrong key, or key destroyed."""


def context(table: str, row_id: str, column: str) -> str:
    """The associated-data context that binds a sealed value to its row and column."""
    return f"{table}:{row_id}:{column}"


class _KeyCache:
    """Unwrapped data keys, bounded, shared by the threads of one process.

    It holds the 32 raw bytes of each key and makes the AESGCM object when one is asked for
    (0.7 µs): an AESGCM object holds an OpenSSL context of about 2.3 KB, so 20,000 cached
    objects were 46 MB of a web process's memory (issue 14), 20,000 raw keys are about 3 MB."""

    def __init__(self, size: int = 20_000) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key_id: str) -> AESGCM | None:
        with self._lock:
            raw = self._items.get(key_id)
            if raw is None:
                return None
            self._items.move_to_end(key_id)
        return AESGCM(raw)

    def put(self, key_id: str, raw: bytes) -> None:
        with self._lock:
            self._items[key_id] = raw
            self._items.move_to_end(key_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, key_id: str) -> None:
        with self._lock:
            self._items.pop(key_id, None)


class Envelope:
    """The app's crypto state: its keyring and a cache of unwrapped data keys."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self.cache = _KeyCache()


def _envelope() -> Envelope:
    envelope: Envelope = current_app.extensions["exchange.envelope"]
    return envelope


def keyring() -> Keyring:
    """The keyring of the running app."""
    return _envelope().keyring


def _wrap_context(key_id: str, kek_id: str) -> bytes:
    return f"dek:{key_id}:{kek_id}".encode()


def _wrap(keyring_: Keyring, key_id: str, raw: bytes) -> tuple[str, bytes]:
    kek_id = keyring_.current
    nonce = os.urandom(NONCE_BYTES)
    sealed = keyring_.aead(kek_id).encrypt(nonce, raw, _wrap_context(key_id, kek_id))
    return kek_id, WRAP_VERSION + nonce + sealed


def _unwrap(keyring_: Keyring, key: DataKey) -> bytes:
    return _unwrap_row(keyring_, key.id, key.kek_id, key.wrapped)


def _unwrap_row(keyring_: Keyring, key_id: str, kek_id: str, blob: bytes | None) -> bytes:
    if blob is None:
        raise SealError(f"Data key {key_id} has been destroyed.")
    if blob[:1] != WRAP_VERSION:
        raise SealError(f"Data key {key_id} has an unknown format.")
    nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return keyring_.aead(kek_id).decrypt(nonce, sealed, _wrap_context(key_id, kek_id))
    except InvalidTag:
        raise SealError(f"Data key {key_id} does not open with key {kek_id}.") from None


def new_data_key(purpose: str) -> DataKey:
    """Create a random data key for one object, wrapped by the current KEK, added to the session."""
    envelope = _envelope()
    raw = AESGCM.generate_key(bit_length=256)
    key_id = new_id()
    kek_id, wrapped = _wrap(envelope.keyring, key_id, raw)
    key = DataKey(id=key_id, kek_id=kek_id, wrapped=wrapped, purpose=purpose, created_at=utcnow())
    db.session.add(key)
    envelope.cache.put(key_id, raw)
    return key


def new_data_keys(purpose: str, count: int) -> list[str]:
    """Create `count` data keys in one statement (bulk imports); their ids, in creation order."""
    envelope = _envelope()
    start = utcnow()
    rows: list[dict[str, object]] = []
    for n in range(count):
        raw = AESGCM.generate_key(bit_length=256)
        key_id = new_id()
        kek_id, wrapped = _wrap(envelope.keyring, key_id, raw)
        rows.append(
            {
                "id": key_id,
                "kek_id": kek_id,
                "wrapped": wrapped,
                "purpose": purpose,
                "created_at": start + timedelta(microseconds=n),
                "destroyed_at": None,
            }
        )
        envelope.cache.put(key_id, raw)
    if rows:
        db.session.execute(insert(DataKey), rows)
    return [str(row["id"]) for row in rows]


def _cipher(key_id: str) -> AESGCM:
    envelope = _envelope()
    cipher = envelope.cache.get(key_id)
    if cipher is not None:
        return cipher
    key = db.session.get(DataKey, key_id)
    if key is None:
        raise SealError(f"Data key {key_id} does not exist.")
    raw = _unwrap(envelope.keyring, key)
    envelope.cache.put(key_id, raw)
    cipher = AESGCM(raw)
    if key.purpose in READ_AHEAD_PURPOSES:
        _read_ahead(envelope, key)
    return cipher


def _read_ahead(envelope: Envelope, key: DataKey) -> None:
    """Unwrap the next keys of the same purpose, by creation time, in one query.

    There is one key per post: a cold reader going through posts in order (the search index's
    first build) would otherwise pay one query per post; with this it pays one per READ_AHEAD.
    """
    following = db.session.execute(
        select(DataKey.id, DataKey.kek_id, DataKey.wrapped)
        .where(
            DataKey.purpose == key.purpose,
            DataKey.created_at >= key.created_at,
            DataKey.wrapped.is_not(None),
            DataKey.id != key.id,
        )
        .order_by(DataKey.created_at)
        .limit(READ_AHEAD)
    )
    for key_id, kek_id, wrapped in following:
        if key_id not in envelope.cache:
            envelope.cache.put(key_id, _unwrap_row(envelope.keyring, key_id, kek_id, wrapped))


def preload(key_ids: set[str]) -> None:
    """Unwrap, in one query, the given data keys not yet in the cache (a page of per-post keys)."""
    envelope = _envelope()
    missing = [key_id for key_id in key_ids if key_id not in envelope.cache]
    if not missing:
        return
    rows = db.session.execute(
        select(DataKey.id, DataKey.kek_id, DataKey.wrapped).where(DataKey.id.in_(missing))
    )
    for key_id, kek_id, wrapped in rows:
        if wrapped is not None:
            envelope.cache.put(key_id, _unwrap_row(envelope.keyring, key_id, kek_id, wrapped))


def seal(key: DataKey | str, context_: str, plaintext: str | bytes) -> bytes:
    """Seal text or bytes under a data key, bound to its row-and-column context."""
    key_id = key if isinstance(key, str) else key.id
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    header = FIELD_VERSION + bytes.fromhex(key_id)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + _cipher(key_id).encrypt(nonce, data, header + context_.encode())


def open_bytes(blob: bytes, context_: str) -> bytes:
    """Open a sealed value; raises SealError if it was altered, moved or its key is gone."""
    if not blob or len(blob) < HEADER_BYTES + NONCE_BYTES + 16 or blob[:1] != FIELD_VERSION:
        raise SealError("Not a sealed value of a known format.")
    header = blob[:HEADER_BYTES]
    key_id = header[1:].hex()
    nonce = blob[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
    try:
        return _cipher(key_id).decrypt(
            nonce, blob[HEADER_BYTES + NONCE_BYTES :], header + context_.encode()
        )
    except InvalidTag:
        raise SealError(f"A sealed value for {context_.split(':')[0]} did not open.") from None


def open_text(blob: bytes, context_: str) -> str:
    """Open a sealed text value."""
    return open_bytes(blob, context_).decode("utf-8")


def key_id_of(blob: bytes) -> str:
    """The id of the data key a sealed value was made with."""
    return blob[1:HEADER_BYTES].hex()


def shred(key: DataKey) -> None:
    """Destroy a data key: everything sealed under it becomes unrecoverable, in backups too."""
    key.wrapped = None
    key.destroyed_at = utcnow()
    _envelope().cache.drop(key.id)


def shred_ids(key_ids: set[str]) -> None:
    """Destroy the given data keys (see `shred`)."""
    if not key_ids:
        return
    for key in db.session.scalars(select(DataKey).where(DataKey.id.in_(key_ids))):
        shred(key)


def ensure_keyring_matches() -> None:
    """Refuse to run with a keyring that is not the database's; record checks for new KEKs."""
    keyring_ = keyring()
    checks = {row.kek_id: row for row in db.session.scalars(select(KeyringCheck))}
    for kek_id, row in checks.items():
        if row.retired_at is not None:
            continue
        if kek_id not in keyring_.keks:
            raise KeyringError(
                f"The keyring does not hold key {kek_id}, which this database was sealed with; "
                "this is not the keyring that belongs to this database."
            )
        nonce, sealed = row.check[:NONCE_BYTES], row.check[NONCE_BYTES:]
        try:
            opened = keyring_.aead(kek_id).decrypt(nonce, sealed, f"check:{kek_id}".encode())
        except InvalidTag:
            opened = b""
        if opened != CHECK_PLAINTEXT:
            raise KeyringError(
                f"Key {kek_id} in the keyring does not match this database; "
                "this is not the keyring that belongs to this database."
            )
    if checks and not any(kid in checks for kid in keyring_.keks):
        raise KeyringError("The keyring shares no key with this database.")
    for kek_id in keyring_.keks:
        if kek_id not in checks:
            nonce = os.urandom(NONCE_BYTES)
            blob = nonce + keyring_.aead(kek_id).encrypt(
                nonce, CHECK_PLAINTEXT, f"check:{kek_id}".encode()
            )
            db.session.add(KeyringCheck(kek_id=kek_id, check=blob, created_at=utcnow()))
    db.session.flush()


def rewrap_batches(batch_size: int = 500) -> Iterator[int]:
    """Rewrap every live data key not under the current KEK, a batch at a time (caller commits)."""
    keyring_ = keyring()
    while True:
        keys = db.session.scalars(
            select(DataKey)
            .where(DataKey.kek_id != keyring_.current, DataKey.wrapped.is_not(None))
            .limit(batch_size)
        ).all()
        if not keys:
            return
        for key in keys:
            raw = _unwrap(keyring_, key)
            key.kek_id, key.wrapped = _wrap(keyring_, key.id, raw)
        db.session.flush()
        yield len(keys)


def keys_in_use() -> dict[str, int]:
    """How many live data keys each KEK wraps."""
    rows = db.session.execute(
        select(DataKey.kek_id, db.func.count())
        .where(DataKey.wrapped.is_not(None))
        .group_by(DataKey.kek_id)
    ).all()
    return {kek_id: count for kek_id, count in rows}
