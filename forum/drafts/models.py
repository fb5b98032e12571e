"""The drafts table: one sealed text per member and form."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.crypto.sealed import SealedColumns
from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db


class Draft(SealedColumns, db.Model):  # type: ignore[name-defined]
    """What a member typed into one form (`form_key`, e.g. `reply:<thread id>`), sealed under
    the draft's own data key with the context `draft:<id>:body`."""

    __sealed_table__ = "draft"
    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("member_id", "form_key", name="uq_drafts_member_form"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    form_key: Mapped[str] = mapped_column(String(80))
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Draft {self.id}>"
