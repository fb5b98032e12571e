"""What the start page shows of the calls: the member's next call with her RSVP, and the
action items she owns that are still open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from forum.calls import policy
from forum.calls.models import ANSWER_LABELS, ActionItem, CallResponse, Minutes, Occurrence
from forum.db import utcnow
from forum.extensions import db

if TYPE_CHECKING:
    from forum.members.models import Member


@dataclass(frozen=True)
class NextCall:
    """The next call the member may see that is not cancelled, and her RSVP (None: none yet)."""

    occurrence: Occurrence
    answer: str | None

    @property
    def answer_label(self) -> str | None:
        return ANSWER_LABELS.get(self.answer) if self.answer else None


@dataclass(frozen=True)
class OpenAction:
    """An open action item the member owns, with the call whose minutes hold it."""

    item: ActionItem
    occurrence: Occurrence

    @property
    def text(self) -> str:
        return str(self.item.open("text"))


def next_call_for(member: Member, *, now: datetime | None = None) -> NextCall | None:
    """The member's next call (still running or to come, not cancelled), with her RSVP."""
    if not policy.can_see_calls(member):
        return None
    occurrence = db.session.scalar(
        select(Occurrence)
        .join(Occurrence.series)
        .where(
            Occurrence.ends_at >= (now or utcnow()),
            Occurrence.status != "cancelled",
            policy.visible_series_clause(member),
        )
        .order_by(Occurrence.starts_at)
        .limit(1)
    )
    if occurrence is None:
        return None
    answer = db.session.scalar(
        select(CallResponse.answer).where(
            CallResponse.occurrence_id == occurrence.id, CallResponse.member_id == member.id
        )
    )
    return NextCall(occurrence=occurrence, answer=answer)


def open_actions_for(member: Member, *, limit: int = 20) -> list[OpenAction]:
    """The action items the member owns and has not marked done, in minutes she may read."""
    if not policy.can_see_calls(member):
        return []
    rows = db.session.execute(
        select(ActionItem, Occurrence)
        .join(Minutes, ActionItem.minutes_id == Minutes.id)
        .join(Occurrence, Minutes.occurrence_id == Occurrence.id)
        .where(ActionItem.owner_id == member.id, ActionItem.is_done.is_(False))
        .order_by(Occurrence.starts_at.desc(), ActionItem.position)
        .limit(limit)
    ).all()
    return [
        OpenAction(item=item, occurrence=occurrence)
        for item, occurrence in rows
        if policy.can_read_minutes(member, item.minutes)
    ]
