"""Organisations, members and their server-side sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.crypto import envelope
from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l

# The stored values are the keys; the labels are what people read (translated when shown).
SECTORS = {
    "ngo": _l("NGO"),
    "law_enforcement": _l("Law enforcement"),
    "government": _l("Government"),
    "civil_society": _l("Civil society"),
    "academia": _l("Academia"),
    "other": _l("Other"),
}
ROLES = ("coordinator", "member")
ROLE_LABELS = {"coordinator": _l("Coordinator"), "member": _l("Member")}
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
        return str(SECTORS.get(self.sector, SECTORS["other"]))

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
    # The interface language the member chose (forum.i18n.LANGUAGES); "" follows the browser.
    locale: Mapped[str] = mapped_column(String(8), default="")
    # The language this member's browser spoke at their last sign-in (switcher, else
    # Accept-Language): what they are written to in while `locale` follows the browser.
    seen_locale: Mapped[str] = mapped_column(String(8), default="")
    # Comma-separated ISO country codes this member is the network's contact point for.
    contact_point_countries: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="member", index=True)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    # A new TOTP secret being enrolled (factor reset), sealed; replaces the secret once confirmed.
    totp_pending_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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
    # "Firefox on Linux": enough for a member to recognise their own browsers, nothing more.
    device_label: Mapped[str] = mapped_column(String(80), default="")

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<MemberSession member={self.member_id}>"


INVITE_ROLES = ROLES
NOMINATION_STATUSES = ("pending", "approved", "declined")


class Invite(db.Model):  # type: ignore[name-defined]
    """An invitation to one e-mail address. Only the token's SHA-256 is stored; the address is
    sealed under the invite's own data key and found by a blind index."""

    __tablename__ = "invites"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    role: Mapped[str] = mapped_column(String(20), default="member")
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    inviter_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    sponsor_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    # Registration in progress: name, password hash and the TOTP secret being enrolled, sealed.
    pending_name_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    pending_password_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    pending_totp_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Set when the purge job shredded the invite's key (its address is gone for good).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])
    inviter: Mapped[Member | None] = relationship(foreign_keys=[inviter_id])
    sponsor: Mapped[Member | None] = relationship(foreign_keys=[sponsor_id])

    def context(self, column: str) -> str:
        """The sealing context of one of this invite's columns."""
        return envelope.context("invite", self.id, column)

    @property
    def email(self) -> str:
        """The invited address, opened from its sealed column."""
        return envelope.open_text(self.email_sealed, self.context("email"))

    def state(self, now: datetime) -> str:
        """open, used, revoked or expired."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if now >= self.expires_at:
            return "expired"
        return "open"

    def __repr__(self) -> str:
        return f"<Invite {self.id}>"


class Nomination(db.Model):  # type: ignore[name-defined]
    """A member's proposal to invite someone, waiting in the coordinators' vetting queue."""

    __tablename__ = "nominations"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    nominator_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    email_index: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    email_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    reason_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    invite_id: Mapped[str | None] = mapped_column(ForeignKey("invites.id"))

    nominator: Mapped[Member] = relationship(foreign_keys=[nominator_id])

    def _open(self, column: str) -> str:
        blob = getattr(self, f"{column}_sealed")
        return envelope.open_text(blob, envelope.context("nomination", self.id, column))

    @property
    def email(self) -> str:
        """The nominee's address."""
        return self._open("email")

    @property
    def name(self) -> str:
        """The nominee's name."""
        return self._open("name")

    @property
    def reason(self) -> str:
        """Why the nominator vouches for them."""
        return self._open("reason")

    def __repr__(self) -> str:
        return f"<Nomination {self.id} {self.status}>"


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """One single-use recovery code, stored only as a keyed hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} member={self.member_id}>"


RECOVERY_KINDS = ("reset", "setup")


class RecoveryLink(db.Model):  # type: ignore[name-defined]
    """A single-use link that sets a new password: "reset" (Forgot your password?, 30 minutes,
    with the authenticator code) or "setup" (issued by a coordinator after re-vetting a member
    who lost both password and authenticator). Only the token's SHA-256 is stored."""

    __tablename__ = "recovery_links"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="reset")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A coordinator's setup link: who issued it and which member vouched for the person.
    issued_by_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    vouched_by_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def is_open(self, now: datetime) -> bool:
        """Not used and not expired."""
        return self.used_at is None and now < self.expires_at

    def __repr__(self) -> str:
        return f"<RecoveryLink {self.id} member={self.member_id}>"
