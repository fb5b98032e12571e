"""Organisations, members and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.crypto import envelope
from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db

SECTORS = {
    "ngo": "NGO",
    "law_enforcement": "Law enforcement",
    "government": "Government",
    "civil_society": "Civil society",
    "academia": "Academia",
    "other": "Other",
}
ROLES = ("coordinator", "member")
STATUSES = ("active", "suspended", "removed")


class Organisation(db.Model):  # type: ignore[name-defined]
    """An organisation members belong to (an NGO, a police service, a ministry …)."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2), default="")
    sector: Mapped[str] = mapped_column(String(20), default="other")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[Member]] = relationship(back_populates="organisation")

    @property
    def sector_label(self) -> str:
        return SECTORS.get(self.sector, "Other")

    def __repr__(self) -> str:
        return f"<Organisation {self.id}>"


class Member(db.Model):  # type: ignore[name-defined]
    """A vetted expert. Name, e-mail address and TOTP secret are sealed under the member's key."""

    __tablename__ = "members"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String(2), default="", index=True)
    expertise: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Comma-separated ISO country codes this member is the network's contact point for.
    contact_point_countries: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="member", index=True)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_email_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sponsor_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")

    def _open(self, column: str, blob: bytes) -> str:
        return envelope.open_text(blob, envelope.context("member", self.id, column))

    @property
    def display_name(self) -> str:
        """The member's name, opened from its sealed column."""
        return self._open("name", self.name_sealed)

    @property
    def email(self) -> str:
        """The member's e-mail address, opened from its sealed column."""
        return self._open("email", self.email_sealed)

    @property
    def is_coordinator(self) -> bool:
        return self.role == "coordinator" and self.status == "active"

    @property
    def is_active_member(self) -> bool:
        return self.status == "active"

    @property
    def contact_points(self) -> list[str]:
        return [c for c in self.contact_point_countries.split(",") if c]

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.id

    def __repr__(self) -> str:
        return f"<Member {self.id} {self.role}/{self.status}>"


class MemberSession(db.Model):  # type: ignore[name-defined]
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "member_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reauth_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    end_reason: Mapped[str | None] = mapped_column(String(40))

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<MemberSession member={self.member_id}>"
