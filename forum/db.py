"""Shared column helpers: application-made ids, UTC timestamps, sealed-column type."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, LargeBinary, String
from sqlalchemy.types import TypeDecorator

ID_LENGTH = 32


def new_id() -> str:
    """A random 128-bit id as 32 hex characters, made before insert (sealing needs it)."""
    return secrets.token_hex(16)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every database and always returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use forum.db.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def IdColumn() -> String:  # noqa: N802 - reads like a type
    """The column type of every application-made id."""
    return String(ID_LENGTH)


Sealed = LargeBinary
"""The column type of a sealed (AES-256-GCM) field; such columns end in `_sealed`."""
