"""Confidentiality platform: keyring, envelope data keys, sealed fields, blind index."""

from forum.crypto.blind_index import blind_index
from forum.crypto.envelope import (
    SealError,
    context,
    new_data_key,
    open_bytes,
    open_text,
    preload,
    seal,
    shred,
    shred_ids,
)
from forum.crypto.keyring import Keyring, KeyringError

__all__ = [
    "Keyring",
    "KeyringError",
    "SealError",
    "blind_index",
    "context",
    "new_data_key",
    "open_bytes",
    "open_text",
    "preload",
    "seal",
    "shred",
    "shred_ids",
]
