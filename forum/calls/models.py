"""Call series, their occurrences, RSVPs, agenda items, reminders, minutes and calendar feeds.

Confidential text (titles, descriptions, joining details, place and programme, agenda items,
minutes, action items) is sealed under the series' data key; shredding that key shreds the
whole series. Times are UTC (`_at`); the organiser's zone is kept on the series.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.crypto.sealed import SealedColumns
from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l

KINDS = ("series", "adhoc", "event")
PATTERNS = ("nth_weekday", "last_weekday", "day_of_month", "weekly", "biweekly", "once")
ANSWERS = ("attending", "maybe", "not_attending")
ANSWER_LABELS = {
    "attending": _l("Attending"),
    "maybe": _l("Maybe"),
    "not_attending": _l("Not attending"),
}
AGENDA_STATUSES = ("proposed", "accepted", "declined")
AGENDA_STATUS_LABELS = {
    "proposed": _l("Proposed"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
}


class CallSeries(SealedColumns, db.Model):  # type: ignore[name-defined]
    """A recurring call, an ad-hoc call or a multi-day event, with its recurrence rule."""

    __tablename__ = "call_series"
    __sealed_table__ = "call_series"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    kind: Mapped[str] = mapped_column(String(10), default="series", index=True)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    description_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    joining_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    place_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    programme_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60)
    # The recurrence: pattern, ordinal (1..5), weekday (0 = Monday), day of month, times "HH:MM".
    pattern: Mapped[str] = mapped_column(String(20), default="nth_weekday")
    ordinal: Mapped[int | None] = mapped_column(Integer)
    weekday: Mapped[int | None] = mapped_column(Integer)
    day_of_month: Mapped[int | None] = mapped_column(Integer)
    time_of_day: Mapped[str] = mapped_column(String(5), default="14:00")
    rotation_time: Mapped[str | None] = mapped_column(String(5))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Minutes before each occurrence a reminder goes out, e.g. "10080,60".
    reminder_offsets: Mapped[str] = mapped_column(String(100), default="10080,60")
    is_email_joining_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_ended: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str | None] = mapped_column(String(80))
    filled_until_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisers: Mapped[list[CallOrganiser]] = relationship(
        back_populates="series", cascade="all, delete-orphan"
    )

    @property
    def title(self) -> str:
        return self.open("title")

    @property
    def offsets(self) -> list[int]:
        """Reminder offsets in minutes, largest first."""
        return sorted((int(x) for x in self.reminder_offsets.split(",") if x.strip()), reverse=True)

    @property
    def organiser_ids(self) -> set[str]:
        return {o.member_id for o in self.organisers}

    def __repr__(self) -> str:
        return f"<CallSeries {self.id} {self.kind}>"


class CallOrganiser(db.Model):  # type: ignore[name-defined]
    """A member who organises a series (besides coordinators, who organise every call)."""

    __tablename__ = "call_organisers"

    series_id: Mapped[str] = mapped_column(ForeignKey("call_series.id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)

    series: Mapped[CallSeries] = relationship(back_populates="organisers")

    def __repr__(self) -> str:
        return f"<CallOrganiser {self.series_id} {self.member_id}>"


class Occurrence(SealedColumns, db.Model):  # type: ignore[name-defined]
    """One call on one day: a row made ahead of time, movable and cancellable on its own."""

    __tablename__ = "call_occurrences"
    __sealed_table__ = "call_occurrence"
    __table_args__ = (
        UniqueConstraint("series_id", "slot_at", name="uq_call_occurrences_series_slot"),
        Index("ix_call_occurrences_starts", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    series_id: Mapped[str] = mapped_column(ForeignKey("call_series.id"), index=True)
    # The start the recurrence computed for this slot: the identity of the slot in the series.
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")  # scheduled|cancelled
    is_modified: Mapped[bool] = mapped_column(Boolean, default=False)
    joining_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    note_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # iCalendar SEQUENCE: raised on every change a calendar must pick up.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    series: Mapped[CallSeries] = relationship()

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    def bump(self, *, status: str | None = None) -> None:
        """Record a change calendars must pick up: new status, higher SEQUENCE."""
        if status is not None:
            self.status = status
        self.sequence += 1
        self.updated_at = utcnow()

    def __repr__(self) -> str:
        return f"<Occurrence {self.id} series={self.series_id} {self.status}>"


class CallResponse(db.Model):  # type: ignore[name-defined]
    """A member's RSVP to an occurrence, and afterwards whether they attended."""

    __tablename__ = "call_responses"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "member_id", name="uq_call_responses_occ_member"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    occurrence_id: Mapped[str] = mapped_column(ForeignKey("call_occurrences.id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_attended: Mapped[bool | None] = mapped_column(Boolean)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    occurrence: Mapped[Occurrence] = relationship()

    def __repr__(self) -> str:
        return f"<CallResponse {self.occurrence_id} {self.member_id} {self.answer}>"


class AgendaItem(SealedColumns, db.Model):  # type: ignore[name-defined]
    """An agenda item a member proposed for an occurrence; organisers accept, order and time it."""

    __tablename__ = "call_agenda_items"
    __sealed_table__ = "call_agenda_item"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    occurrence_id: Mapped[str] = mapped_column(ForeignKey("call_occurrences.id"), index=True)
    proposer_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    description_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    presenter_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(10), default="proposed")
    position: Mapped[int] = mapped_column(Integer, default=0)
    minutes_allotted: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    occurrence: Mapped[Occurrence] = relationship()

    def __repr__(self) -> str:
        return f"<AgendaItem {self.id} {self.status}>"


class Reminder(db.Model):  # type: ignore[name-defined]
    """One reminder of one occurrence, due at a time; sent once, or skipped when too late."""

    __tablename__ = "call_reminders"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "offset_minutes", name="uq_call_reminders_occ_offset"),
        Index("ix_call_reminders_due", "status", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    occurrence_id: Mapped[str] = mapped_column(ForeignKey("call_occurrences.id"), index=True)
    offset_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|sent|skipped
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    occurrence: Mapped[Occurrence] = relationship()

    def __repr__(self) -> str:
        return f"<Reminder {self.id} {self.status}>"


class Minutes(SealedColumns, db.Model):  # type: ignore[name-defined]
    """Minutes of an occurrence, written in Markdown by an organiser, sealed, with a TLP label."""

    __tablename__ = "call_minutes"
    __sealed_table__ = "call_minutes"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    occurrence_id: Mapped[str] = mapped_column(ForeignKey("call_occurrences.id"), unique=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    label: Mapped[str] = mapped_column(String(20), default="TLP:AMBER")
    thread_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    occurrence: Mapped[Occurrence] = relationship()
    action_items: Mapped[list[ActionItem]] = relationship(
        back_populates="minutes", order_by="ActionItem.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Minutes {self.id} occurrence={self.occurrence_id}>"


class ActionItem(SealedColumns, db.Model):  # type: ignore[name-defined]
    """An action item of the minutes, owned by a member."""

    __tablename__ = "call_action_items"
    __sealed_table__ = "call_action_item"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    minutes_id: Mapped[str] = mapped_column(ForeignKey("call_minutes.id"), index=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    text_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_done: Mapped[bool] = mapped_column(Boolean, default=False)

    minutes: Mapped[Minutes] = relationship(back_populates="action_items")

    def __repr__(self) -> str:
        return f"<ActionItem {self.id}>"


class FeedToken(db.Model):  # type: ignore[name-defined]
    """A member's secret calendar-feed address; only the SHA-256 of the token is stored."""

    __tablename__ = "call_feed_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<FeedToken member={self.member_id}>"
