"""Key management: status, rotation (add a KEK, rewrap every data key), retirement of old KEKs.

Order matters for safety: a new KEK is saved to the keyring file before any data key is wrapped
with it, and a KEK is retired in the database before it leaves the keyring file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from forum.crypto import envelope
from forum.crypto.keyring import KeyringError
from forum.crypto.models import KeyringCheck
from forum.db import utcnow
from forum.extensions import db
from forum.security import audit


@dataclass(frozen=True)
class KeyStatus:
    """What the keyring holds and how the database uses it."""

    keyring_source: str
    current: str
    keks: list[str]
    data_keys: dict[str, int]
    retired: list[str]


def status() -> KeyStatus:
    """The keyring's KEKs, which is current, and how many live data keys each wraps."""
    keyring = envelope.keyring()
    retired = [
        row.kek_id
        for row in db.session.scalars(
            select(KeyringCheck).where(KeyringCheck.retired_at.is_not(None))
        )
    ]
    source = str(keyring.source) if keyring.source else "EXCHANGE_KEYRING (environment)"
    return KeyStatus(
        keyring_source=source,
        current=keyring.current,
        keks=sorted(keyring.keks),
        data_keys=envelope.keys_in_use(),
        retired=sorted(retired),
    )


def _keyring_file() -> Path:
    keyring = envelope.keyring()
    if keyring.source is None:
        raise KeyringError(
            "The keyring comes from EXCHANGE_KEYRING; rotate it where it is stored, "
            "or use a keyring file (crypto.keyring_path) to rotate with this command."
        )
    return keyring.source


def rewrap(batch_size: int = 500, progress: Callable[[int], object] | None = None) -> int:
    """Rewrap every live data key not under the current KEK, committing batch by batch."""
    total = 0
    for count in envelope.rewrap_batches(batch_size):
        db.session.commit()
        total += count
        if progress is not None:
            progress(total)
    return total


def rotate(
    batch_size: int = 500, progress: Callable[[int], object] | None = None
) -> tuple[str, int]:
    """Add a KEK, make it current, save the keyring, then rewrap every data key under it."""
    path = _keyring_file()
    keyring = envelope.keyring()
    keyring.reload()
    kek_id = keyring.add_kek()
    keyring.save(path)  # before anything is wrapped with it
    envelope.ensure_keyring_matches()  # records a check row for the new KEK
    db.session.commit()
    total = rewrap(batch_size, progress)
    audit.record("keys.rotated", target_type="kek", kek_id=kek_id, count=total)
    db.session.commit()
    current_app.logger.info("keyring rotated to %s; %d data keys rewrapped", kek_id, total)
    return kek_id, total


def retire(kek_id: str) -> None:
    """Remove a KEK that no live data key uses any more from the keyring."""
    path = _keyring_file()
    keyring = envelope.keyring()
    if kek_id not in keyring.keks:
        raise KeyringError(f"The keyring does not hold key {kek_id}.")
    if kek_id == keyring.current:
        raise KeyringError("The current key cannot be retired; rotate first.")
    in_use = envelope.keys_in_use().get(kek_id, 0)
    if in_use:
        raise KeyringError(
            f"Key {kek_id} still wraps {in_use} data keys; run `exchange keys rewrap` "
            "(after restarting processes that started before the rotation) and try again."
        )
    check = db.session.get(KeyringCheck, kek_id)
    if check is not None:
        check.retired_at = utcnow()
    audit.record("keys.retired", target_type="kek", kek_id=kek_id)
    db.session.commit()  # the database forgets the key first: a crash here leaves it harmless
    keyring.retire(kek_id)
    keyring.save(path)
