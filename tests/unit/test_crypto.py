"""The encryption platform, tested as an attacker would try it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forum import create_app
from forum.crypto import SealError, blind_index, envelope
from forum.crypto.keyring import Keyring, KeyringError, create_keyring, load_keyring
from forum.crypto.models import DataKey
from forum.extensions import db

HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_sealed_value_opens_only_in_its_own_row_and_column(app: Flask) -> None:
    key = envelope.new_data_key("test")
    blob = envelope.seal(key, envelope.context("post", "a" * 32, "body"), "lessons from Brussels")
    assert (
        envelope.open_text(blob, envelope.context("post", "a" * 32, "body"))
        == "lessons from Brussels"
    )
    with pytest.raises(SealError):
        envelope.open_text(blob, envelope.context("post", "b" * 32, "body"))
    with pytest.raises(SealError):
        envelope.open_text(blob, envelope.context("post", "a" * 32, "title"))


def test_sealing_twice_gives_different_ciphertexts(app: Flask) -> None:
    key = envelope.new_data_key("test")
    ctx = envelope.context("post", "c" * 32, "body")
    assert envelope.seal(key, ctx, "same words") != envelope.seal(key, ctx, "same words")


@HYPOTHESIS
@given(plaintext=st.binary(max_size=512), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_a_flipped_bit_never_opens(app: Flask, plaintext: bytes, position: int, bit: int) -> None:
    key = envelope.new_data_key("test")
    ctx = envelope.context("post", "d" * 32, "body")
    blob = bytearray(envelope.seal(key, ctx, plaintext))
    blob[position % len(blob)] ^= 1 << bit
    with pytest.raises(SealError):
        envelope.open_bytes(bytes(blob), ctx)


@HYPOTHESIS
@given(plaintext=st.text(max_size=200), other=st.text(min_size=1, max_size=40))
def test_wrong_associated_data_never_opens(app: Flask, plaintext: str, other: str) -> None:
    key = envelope.new_data_key("test")
    ctx = envelope.context("post", "e" * 32, "body")
    blob = envelope.seal(key, ctx, plaintext)
    assert envelope.open_text(blob, ctx) == plaintext
    with pytest.raises(SealError):
        envelope.open_text(blob, ctx + other)


def test_a_value_sealed_under_another_key_does_not_open_as_this_one(app: Flask) -> None:
    first, second = envelope.new_data_key("test"), envelope.new_data_key("test")
    ctx = envelope.context("post", "f" * 32, "body")
    blob = bytearray(envelope.seal(first, ctx, "secret"))
    blob[1:17] = bytes.fromhex(second.id)  # claim the other key
    with pytest.raises(SealError):
        envelope.open_text(bytes(blob), ctx)


def test_shredded_key_makes_data_unrecoverable_even_in_a_fresh_process(app: Flask) -> None:
    key = envelope.new_data_key("thread")
    ctx = envelope.context("post", "0" * 32, "body")
    blob = envelope.seal(key, ctx, "to be forgotten")
    db.session.commit()
    envelope.shred(key)
    db.session.commit()
    app.extensions["exchange.envelope"].cache = envelope._KeyCache()  # a process that never saw it
    with pytest.raises(SealError):
        envelope.open_text(blob, ctx)
    assert db.session.get(DataKey, key.id).wrapped is None


def test_data_keys_are_stored_only_wrapped(app: Flask) -> None:
    key = envelope.new_data_key("test")
    db.session.commit()
    raw_cipher = app.extensions["exchange.envelope"].cache.get(key.id)
    assert raw_cipher is not None
    row = db.session.get(DataKey, key.id)
    assert row.wrapped and len(row.wrapped) == 1 + 12 + 32 + 16


def test_rotation_rewraps_every_key_and_everything_stays_readable(
    app: Flask, instance: Path
) -> None:
    keys = [envelope.new_data_key("test") for _ in range(7)]
    blobs = [
        envelope.seal(k, envelope.context("x", k.id, "v"), f"value {i}") for i, k in enumerate(keys)
    ]
    db.session.commit()
    ring = envelope.keyring()
    old = ring.current
    ring.add_kek()
    ring.save()
    assert sum(envelope.rewrap_batches(batch_size=3)) == 7
    db.session.commit()
    envelope.ensure_keyring_matches()
    assert envelope.keys_in_use() == {ring.current: 7}
    ring.retire(old)
    ring.save()
    app.extensions["exchange.envelope"].cache = envelope._KeyCache()
    for i, (k, blob) in enumerate(zip(keys, blobs, strict=True)):
        assert envelope.open_text(blob, envelope.context("x", k.id, "v")) == f"value {i}"
    assert old not in json.loads((instance / "keyring.json").read_text())["keks"]


def test_blind_index_is_keyed_and_normalised(app: Flask) -> None:
    assert blind_index("member.email", "Expert@Example.org ") == blind_index(
        "member.email", "expert@example.org"
    )
    assert blind_index("member.email", "a@example.org") != blind_index("other", "a@example.org")
    other_ring = Keyring.generate()
    assert other_ring.index_key != envelope.keyring().index_key


def test_keyring_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    create_keyring(path)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(KeyringError):
        create_keyring(path)
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="readable by others"):
        load_keyring(path, environ={})


def test_missing_keyring_stops_the_start_with_a_clear_sentence(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="keyring file .* is missing"):
        load_keyring(tmp_path / "nope.json", environ={})


def test_app_refuses_a_keyring_that_does_not_belong_to_its_database(
    app: Flask, instance: Path
) -> None:
    config = {
        "app": {"secret_key": app.config["SECRET_KEY"], "instance_path": str(instance)},
        "database": {"url": app.config["SQLALCHEMY_DATABASE_URI"]},
        "scheduler": {"enabled": False},
    }
    (instance / "keyring.json").unlink()
    create_keyring(instance / "keyring.json")  # a stranger's keyring
    with pytest.raises(KeyringError, match="not the keyring that belongs to this database"):
        create_app(config)


def test_the_key_cache_holds_raw_keys_not_cipher_objects(app: Flask) -> None:
    """An AESGCM object holds an OpenSSL context of about 2.3 KB: the cache keeps the 32 raw
    bytes and makes the object when asked (20,000 objects were 46 MB of a web process)."""
    cache = envelope._KeyCache(size=3)
    keys = {f"k{n}": bytes([n]) * 32 for n in range(5)}
    for key_id, raw in keys.items():
        cache.put(key_id, raw)
    assert len(cache) == 3 and "k0" not in cache and "k4" in cache  # the oldest went first
    assert all(isinstance(raw, bytes) and len(raw) == 32 for raw in cache._items.values())
    nonce = b"\x00" * 12
    sealed = AESGCM(keys["k4"]).encrypt(nonce, b"text", b"ad")
    cipher = cache.get("k4")
    assert cipher is not None and cipher.decrypt(nonce, sealed, b"ad") == b"text"
    assert cache.get("k0") is None
