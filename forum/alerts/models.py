"""Urgent alerts: the alert, its audience, answers, timeline, escalation steps and review.

Everything a member writes (title, place, what is needed, notes, updates, the review) is sealed
under the alert's own data key; shredding that key erases the alert and its notifications.
Countries, nationalities, kind, severity and times stay in the clear: the audience, the register
and escalation are computed from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.crypto import envelope
from forum.crypto.sealed import SealedColumns
from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l

if TYPE_CHECKING:
    from forum.members.models import Member

# The stored values are the keys; the labels are shown, each in the reader's language.
KINDS = {"attack": _l("Attack or mass-violence incident"), "question": _l("Urgent question")}
SEVERITIES = {"critical": _l("Critical"), "high": _l("High"), "moderate": _l("Moderate")}
STATUSES = {
    "open": _l("Open"),
    "coordinating": _l("Coordinating"),
    "resolved": _l("Resolved"),
    "cancelled": _l("Cancelled: false alarm"),
}
# A closed alert takes no answers, shows no banner and is never escalated.
CLOSED = frozenset({"resolved", "cancelled"})
# The TLP labels an alert may carry (what its readers may do with it outside the Exchange).
LABELS = ("RED", "AMBER+STRICT", "AMBER", "GREEN")
ANSWERS = {
    "seen": _l("Seen"),
    "can_help": _l("I can help"),
    "nationals_affected": _l("Our nationals are affected"),
    "not_available": _l("Not available"),
}
STEPS = ("renotify", "coordinators")


def _codes(value: str) -> list[str]:
    return [c for c in value.split(",") if c]


class _RequiredSealed(SealedColumns):
    """Sealed columns that are NOT NULL: an empty value is sealed too, never stored as None."""

    def seal(self, column: str, value: str | bytes, *, key_id: str | None = None) -> None:
        """Seal a value (an empty one included) into one column."""
        context = self.sealed_context(column)
        blob = envelope.seal(key_id or self.sealing_key_id(), context, value)
        setattr(self, f"{column}_sealed", blob)


class Alert(_RequiredSealed, db.Model):  # type: ignore[name-defined]
    """One urgent alert raised by a member."""

    __tablename__ = "alerts"
    __sealed_table__ = "alert"
    __table_args__ = (Index("ix_alerts_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    raiser_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    label: Mapped[str] = mapped_column(String(20), default="AMBER")
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    city_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    needs_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    country: Mapped[str] = mapped_column(String(2), default="")
    # Comma-separated ISO codes of nationalities known or feared to be among the victims.
    nationalities: Mapped[str] = mapped_column(String(400), default="")
    # The audience as chosen (comma-separated); empty means every active member.
    audience_regions: Mapped[str] = mapped_column(String(400), default="")
    audience_countries: Mapped[str] = mapped_column(String(400), default="")
    audience_expertise: Mapped[str] = mapped_column(String(400), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_answer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    thread_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    call_occurrence_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))

    raiser: Mapped[Member] = relationship("Member", foreign_keys=[raiser_id])

    @property
    def title(self) -> str:
        return self.open("title")

    @property
    def city(self) -> str:
        return self.open("city")

    @property
    def needs(self) -> str:
        return self.open("needs")

    @property
    def nationality_codes(self) -> list[str]:
        return _codes(self.nationalities)

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED

    @property
    def kind_label(self) -> str:
        return str(KINDS.get(self.kind, self.kind))

    @property
    def severity_label(self) -> str:
        return str(SEVERITIES.get(self.severity, self.severity))

    @property
    def status_label(self) -> str:
        return str(STATUSES.get(self.status, self.status))

    @property
    def link(self) -> str:
        return f"/alerts/{self.id}"

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.status}>"


class AlertRecipient(db.Model):  # type: ignore[name-defined]
    """A member the alert was sent to: the audience, frozen when it was raised."""

    __tablename__ = "alert_recipients"

    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    # Why the member is in the audience: "audience", "contact_point" or "raiser".
    reason: Mapped[str] = mapped_column(String(20), default="audience")

    def __repr__(self) -> str:
        return f"<AlertRecipient alert={self.alert_id} member={self.member_id}>"


class AlertAnswer(SealedColumns, db.Model):  # type: ignore[name-defined]
    """A member's one-tap answer to an alert; changing it updates the same row."""

    __tablename__ = "alert_answers"
    __sealed_table__ = "alert_answer"  # sealed under the alert's key (`key_id=alert.dek_id`)
    __table_args__ = (UniqueConstraint("alert_id", "member_id", name="uq_alert_answers_member"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    answer: Mapped[str] = mapped_column(String(30))
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship("Member")

    @property
    def answer_label(self) -> str:
        return str(ANSWERS.get(self.answer, self.answer))

    @property
    def note(self) -> str:
        return self.open("note")

    def __repr__(self) -> str:
        return f"<AlertAnswer {self.id} alert={self.alert_id} {self.answer}>"


class AlertUpdate(SealedColumns, db.Model):  # type: ignore[name-defined]
    """One entry of an alert's timeline: a status change and/or a sealed update."""

    __tablename__ = "alert_updates"
    __sealed_table__ = "alert_update"  # sealed under the alert's key (`key_id=alert.dek_id`)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    # "raised", "update", "status", "escalated", "thread", "call", "review"
    event: Mapped[str] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Member | None] = relationship("Member")

    @property
    def text(self) -> str:
        return self.open("text")

    def __repr__(self) -> str:
        return f"<AlertUpdate {self.id} alert={self.alert_id} {self.event}>"


class AlertEscalation(db.Model):  # type: ignore[name-defined]
    """One escalation step taken for an alert; unique per step, so each happens once."""

    __tablename__ = "alert_escalations"
    __table_args__ = (UniqueConstraint("alert_id", "step", name="uq_alert_escalations_step"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    notified: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<AlertEscalation {self.id} alert={self.alert_id} {self.step}>"


REVIEW_PROMPTS = {
    "summary": _l("What happened, and how did the network respond?"),
    "cross_border": _l(
        "Cross-border victims: which nationalities were affected, and how were they "
        "identified, informed and supported?"
    ),
    "cooperation": _l(
        "Cooperation between the country of the attack and the victims' home "
        "countries: what worked, what was missing?"
    ),
    "follow_up": _l(
        "Long-term follow-up: who supports the victims and families from now on, and "
        "what must not be forgotten in six months?"
    ),
    "lessons": _l("Lessons learned: what should the network do differently next time?"),
}


class AlertReview(_RequiredSealed, db.Model):  # type: ignore[name-defined]
    """The after-action review (lessons learned) written when an alert is resolved."""

    __tablename__ = "alert_reviews"
    __sealed_table__ = "alert_review"  # sealed under the alert's key (`key_id=alert.dek_id`)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id"), unique=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    summary_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    cross_border_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    cooperation_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    follow_up_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    lessons_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Member | None] = relationship("Member")

    def answer(self, prompt: str) -> str:
        """The opened answer to one of the review prompts."""
        return self.open(prompt)

    def __repr__(self) -> str:
        return f"<AlertReview {self.id} alert={self.alert_id}>"
