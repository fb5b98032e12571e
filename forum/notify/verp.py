"""VERP envelope senders: `bounces+<token>@domain`, one per outbox row, for reading bounces.

The token is the row's random id and a truncated HMAC of it, lowercase base32 (mail systems may
fold the case of a local part). It names the row and nothing else: the id is random and is
already the message's Message-ID, so the token says nothing of the member, the address or the
event. The HMAC key is derived from app.secret_key for this purpose alone (HKDF, its own info),
so nobody can forge a bounce for a row; changing the secret key retires outstanding tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ID_BYTES = 16  # forum.db.new_id: 128 random bits as 32 hex characters
MAC_BYTES = 10  # 80 bits: forging one by trying is out of reach over SMTP
TOKEN_LENGTH = 42  # base32 of 26 bytes, without padding
LOCAL_PART_MAX = 64  # RFC 5321 section 4.5.3.1.1
# The longest local part a bounce address may have: `<local>+<token>` must fit in 64 characters.
BOUNCE_LOCAL_MAX = LOCAL_PART_MAX - 1 - TOKEN_LENGTH
_INFO = b"invictm-exchange verp bounce token v1"
_ADDRESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def address_problem(address: str) -> str | None:
    """Why `address` cannot be the bounce address (a sentence's end), or None when it can."""
    if not _ADDRESS.fullmatch(address):
        return "must be a plain address such as bounces@exchange.example.org"
    if "+" in address:
        return "must not contain '+' (the Exchange adds '+<token>' itself)"
    if len(address.split("@", 1)[0]) > BOUNCE_LOCAL_MAX:
        return f"must have a local part of at most {BOUNCE_LOCAL_MAX} characters"
    return None


class Verp:
    """Makes and checks the VERP address of each outbox row for one bounce address."""

    def __init__(self, bounce_address: str, secret_key: str) -> None:
        local, domain = bounce_address.rsplit("@", 1)
        self.local = local.lower()
        self.domain = domain.lower()
        self._key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            secret_key.encode("utf-8")
        )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Mapping[str, Any]]) -> Verp | None:
        """The VERP of these settings, or None when mail.bounce_address is empty (off)."""
        address = settings["mail"]["bounce_address"].strip()
        return cls(address, settings["app"]["secret_key"]) if address else None

    def _mac(self, raw_id: bytes) -> bytes:
        return hmac.new(self._key, b"outbox:" + raw_id, hashlib.sha256).digest()[:MAC_BYTES]

    def address_for(self, row_id: str) -> str | None:
        """The envelope sender for this outbox row (None for an id that is not a random one)."""
        try:
            raw_id = bytes.fromhex(row_id)
        except ValueError:
            return None
        if len(raw_id) != ID_BYTES:
            return None
        token = _encode(raw_id + self._mac(raw_id))
        return f"{self.local}+{token}@{self.domain}"

    def row_of(self, address: str) -> str | None:
        """The outbox row id this VERP address names, or None (not ours, altered, forged)."""
        address = address.strip().strip("<>").lower()
        local, _, domain = address.rpartition("@")
        prefix = self.local + "+"
        if domain != self.domain or not local.startswith(prefix):
            return None
        token = local[len(prefix) :]
        if len(token) != TOKEN_LENGTH:
            return None
        try:
            raw = base64.b32decode(token.upper() + "======")
        except (binascii.Error, ValueError):
            return None
        if _encode(raw) != token:
            return None  # a token whose unused last bits were changed: not the one we made
        raw_id, mac = raw[:ID_BYTES], raw[ID_BYTES:]
        if len(mac) != MAC_BYTES or not hmac.compare_digest(mac, self._mac(raw_id)):
            return None
        return raw_id.hex()


def _encode(raw: bytes) -> str:
    """Lowercase base32 without its padding (a local part has no room, or use, for '=')."""
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()
