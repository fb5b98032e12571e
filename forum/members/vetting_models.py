"""Tables of vetting that outlive the invite: who vouched for a nominee, and each member's
yearly re-confirmation of their organisation and role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db
from forum.members.models import Member, Nomination, Organisation


class NominationSponsor(db.Model):  # type: ignore[name-defined]
    """One member vouching for a nominee, with the organisation they vouched from."""

    __tablename__ = "nomination_sponsors"
    __table_args__ = (UniqueConstraint("nomination_id", "member_id"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nominations.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    # The sponsor's organisation when they vouched (a later move does not rewrite history).
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    nomination: Mapped[Nomination] = relationship()
    member: Mapped[Member] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<NominationSponsor {self.nomination_id} member={self.member_id}>"


class MemberConfirmation(db.Model):  # type: ignore[name-defined]
    """A member's yearly re-confirmation, and the notices the scheduler sent about it.

    No row yet means the member has not confirmed since joining (their start counts).
    """

    __tablename__ = "member_confirmations"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reminder for the current round of re-confirmation (cleared when the member confirms).
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Notice that a long absence will suspend the account (cleared by the next sign-in).
    inactivity_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the scheduler suspended the member, if it did: "unconfirmed" or "inactive".
    suspended_reason: Mapped[str | None] = mapped_column(String(20))
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<MemberConfirmation member={self.member_id}>"
