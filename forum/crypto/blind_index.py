"""Keyed blind index: HMAC-SHA256 of a normalised value under the keyring's own index key.

Used for exact lookups (a member's e-mail address) without storing the value in the clear.
What it reveals to someone with the database alone: which rows share the same value, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from forum.crypto.envelope import keyring


def normalise(value: str) -> str:
    """Case-fold and NFKC-normalise, trimming surrounding white space."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def blind_index(purpose: str, value: str, *, length: int = 32) -> bytes:
    """The keyed index of a value for one purpose (e.g. "member.email"), `length` bytes long."""
    if not 1 <= length <= 32:
        raise ValueError("a blind index is 1 to 32 bytes long")
    message = purpose.encode() + b"\x00" + normalise(value).encode("utf-8")
    return hmac.new(keyring().index_key, message, hashlib.sha256).digest()[:length]
