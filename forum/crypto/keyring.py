"""The keyring: key-encryption keys (KEKs) with ids, the blind-index key and the Web Push (VAPID)
signing key, outside the database.

Stored as JSON in a file with mode 0600 (or given whole in EXCHANGE_KEYRING). Losing the
database alone reveals nothing; losing the keyring makes every sealed field unreadable, by design.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYRING_FORMAT = 1


class KeyringError(Exception):
    """The keyring is missing, unreadable, or does not match the database."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_vapid_key() -> bytes:
    """A fresh VAPID signing key: P-256 (ES256, RFC 8292), PKCS#8 DER."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def new_kek_id() -> str:
    """A short, unique, non-secret KEK id."""
    return "kek-" + secrets.token_hex(6)


@dataclass
class Keyring:
    """Key-encryption keys by id, which one is current, and the blind-index key."""

    keks: dict[str, bytes]
    current: str
    index_key: bytes
    source: Path | None = None
    # The VAPID (RFC 8292) P-256 private key, PKCS#8 DER; None in a keyring made before Web Push
    # (prepare_instance adds one to a keyring file; see ensure_vapid).
    vapid_key: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def generate(cls) -> Keyring:
        """A fresh keyring with one 256-bit KEK and a 256-bit index key."""
        kek_id = new_kek_id()
        return cls(
            keks={kek_id: AESGCM.generate_key(bit_length=256)},
            current=kek_id,
            index_key=secrets.token_bytes(32),
            vapid_key=new_vapid_key(),
        )

    @classmethod
    def from_json(cls, text: str, source: Path | None = None) -> Keyring:
        """Parse the keyring's JSON form, checking every part."""
        where = str(source) if source else "EXCHANGE_KEYRING"
        try:
            data = json.loads(text)
            if data.get("format") != KEYRING_FORMAT:
                raise KeyringError(f"The keyring in {where} has an unknown format.")
            keks = {kid: _unb64(value) for kid, value in data["keks"].items()}
            current = data["current"]
            index_key = _unb64(data["index_key"])
            vapid_key = _unb64(data["vapid"]) if data.get("vapid") else None
            if vapid_key is not None:
                serialization.load_der_private_key(vapid_key, password=None)
        except KeyringError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError):
            raise KeyringError(f"The keyring in {where} is damaged or not a keyring.") from None
        if current not in keks:
            raise KeyringError(f"The keyring in {where} names a current key it does not hold.")
        if any(len(key) != 32 for key in keks.values()) or len(index_key) != 32:
            raise KeyringError(f"The keyring in {where} holds a key of the wrong length.")
        return cls(
            keks=keks, current=current, index_key=index_key, source=source, vapid_key=vapid_key
        )

    def to_json(self) -> str:
        """The JSON form written to the keyring file."""
        return json.dumps(
            {
                "format": KEYRING_FORMAT,
                "current": self.current,
                "keks": {kid: _b64(key) for kid, key in self.keks.items()},
                "index_key": _b64(self.index_key),
                **({"vapid": _b64(self.vapid_key)} if self.vapid_key else {}),
            },
            indent=2,
        )

    def save(self, path: Path | None = None) -> Path:
        """Write the keyring atomically with mode 0600."""
        target = Path(path or self.source or "")
        if not str(target):
            raise KeyringError(
                "This keyring came from EXCHANGE_KEYRING and has no file to save to."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
        self.source = target
        return target

    def aead(self, kek_id: str) -> AESGCM:
        """The AES-GCM cipher of one KEK; reloads the file once for a key added elsewhere."""
        cipher = self._aead.get(kek_id)
        if cipher is not None:
            return cipher
        with self._lock:
            if kek_id not in self.keks:
                self.reload()
            if kek_id not in self.keks:
                raise KeyringError(
                    f"The keyring does not hold key {kek_id}, which the database uses."
                )
            cipher = self._aead[kek_id] = AESGCM(self.keks[kek_id])
            return cipher

    def reload(self) -> None:
        """Re-read the keyring file (another process may have rotated it)."""
        if self.source is None or not self.source.exists():
            return
        fresh = Keyring.from_json(self.source.read_text(encoding="utf-8"), self.source)
        if fresh.index_key != self.index_key:
            raise KeyringError(f"The keyring file {self.source} changed its index key.")
        self.keks.update(fresh.keks)
        self.current = fresh.current
        self.vapid_key = self.vapid_key or fresh.vapid_key

    def ensure_vapid(self) -> bool:
        """Give a keyring file made before Web Push its VAPID key; True when one was added."""
        if self.vapid_key is not None:
            return False
        self.vapid_key = new_vapid_key()
        self.save()
        return True

    def add_kek(self) -> str:
        """Add a new KEK and make it current; returns its id."""
        kek_id = new_kek_id()
        self.keks[kek_id] = AESGCM.generate_key(bit_length=256)
        self.current = kek_id
        return kek_id

    def retire(self, kek_id: str) -> None:
        """Forget a KEK that no data key uses any more."""
        if kek_id == self.current:
            raise KeyringError("The current key cannot be retired; rotate first.")
        if kek_id not in self.keks:
            raise KeyringError(f"The keyring does not hold key {kek_id}.")
        del self.keks[kek_id]
        self._aead.pop(kek_id, None)


def load_keyring(path: Path, environ: dict[str, str] | None = None) -> Keyring:
    """Load the keyring from EXCHANGE_KEYRING or from its file; fail clearly when absent."""
    environ = dict(os.environ) if environ is None else environ
    if environ.get("EXCHANGE_KEYRING"):
        return Keyring.from_json(environ["EXCHANGE_KEYRING"])
    if not path.exists():
        raise KeyringError(
            f"The keyring file {path} is missing; run `exchange init` on a new instance, "
            "or restore the keyring that belongs to this database."
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyringError(
            f"The keyring file {path} is readable by others (mode {mode:o}); chmod 600 it."
        )
    return Keyring.from_json(path.read_text(encoding="utf-8"), path)


def create_keyring(path: Path) -> Keyring:
    """Create and save a new keyring at path, refusing to overwrite one."""
    if path.exists():
        raise KeyringError(f"A keyring already exists at {path}; it is never overwritten.")
    keyring = Keyring.generate()
    keyring.save(path)
    return keyring
