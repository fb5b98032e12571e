"""Rows the crypto platform keeps in the database: wrapped data keys and keyring checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db


class DataKey(db.Model):  # type: ignore[name-defined]
    """One object's data key (DEK), stored only wrapped by a KEK. Shredding drops `wrapped`."""

    __tablename__ = "data_keys"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    kek_id: Mapped[str] = mapped_column(String(40), index=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    purpose: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DataKey {self.id} kek={self.kek_id}>"


class KeyringCheck(db.Model):  # type: ignore[name-defined]
    """Proof, per KEK, that the keyring in use is the one this database was sealed with."""

    __tablename__ = "keyring_checks"

    kek_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    check: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<KeyringCheck {self.kek_id}>"
