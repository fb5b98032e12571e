"""Around each call: RSVPs, who is coming by country, the agenda, and attendance afterwards."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import func, select

from forum.calls import policy
from forum.calls.models import ANSWERS, AgendaItem, CallResponse, Occurrence
from forum.calls.services import CallError
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members import services as members_services
from forum.security import audit

if TYPE_CHECKING:
    from forum.members.models import Member

MAX_AGENDA_TITLE = 200
MAX_AGENDA_DESCRIPTION = 2000


def _response(occurrence: Occurrence, member_id: str) -> CallResponse:
    row = db.session.scalar(
        select(CallResponse).where(
            CallResponse.occurrence_id == occurrence.id, CallResponse.member_id == member_id
        )
    )
    if row is None:
        row = CallResponse(id=new_id(), occurrence_id=occurrence.id, member_id=member_id)
        row.occurrence = occurrence
        db.session.add(row)
    return row


def respond(occurrence: Occurrence, *, member: Member, answer: str) -> CallResponse:
    """Record a member's RSVP (attending, maybe, not attending); answering again replaces it."""
    policy.require_read(member, occurrence.series)
    if answer not in ANSWERS:
        raise CallError(_("Choose attending, maybe or not attending."))
    if occurrence.is_cancelled:
        raise CallError(_("This call has been cancelled."))
    if not policy.can_rsvp(member, occurrence):
        raise CallError(_("Answers closed when this call started."))
    row = _response(occurrence, member.id)
    row.answer = answer
    row.answered_at = utcnow()
    occurrence.updated_at = utcnow()  # the member's calendar feed shows the new PARTSTAT
    db.session.flush()
    return row


def answer_of(occurrence: Occurrence, member: Member) -> str | None:
    """The member's RSVP to an occurrence, if any."""
    return db.session.scalar(
        select(CallResponse.answer).where(
            CallResponse.occurrence_id == occurrence.id, CallResponse.member_id == member.id
        )
    )


@dataclass
class Turnout:
    """Who is coming: counts by answer, attendees by country, and (for organisers) who is silent."""

    counts: dict[str, int]
    by_country: list[tuple[str, list[Member]]]
    maybe: list[Member]
    not_answered: list[Member] | None


def turnout(occurrence: Occurrence, *, viewer: Member) -> Turnout:
    """The RSVP summary of an occurrence; the list of who has not answered is for organisers."""
    series = policy.require_read(viewer, occurrence.series)
    rows = db.session.execute(
        select(CallResponse.member_id, CallResponse.answer).where(
            CallResponse.occurrence_id == occurrence.id, CallResponse.answer.is_not(None)
        )
    ).all()
    answers = {member_id: answer for member_id, answer in rows}
    active = members_services.active_members()
    counts = Counter(a for m, a in answers.items() if any(x.id == m for x in active))
    coming: dict[str, list[Member]] = {}
    for member in active:
        if answers.get(member.id) == "attending":
            coming.setdefault(member.country or "—", []).append(member)
    by_country = sorted(coming.items(), key=lambda item: (-len(item[1]), item[0]))
    maybe = [m for m in active if answers.get(m.id) == "maybe"]
    silent = None
    if policy.can_organise(viewer, series):
        silent = [m for m in active if m.id not in answers]
    return Turnout({a: counts.get(a, 0) for a in ANSWERS}, by_country, maybe, silent)


def record_attendance(occurrence: Occurrence, *, actor: Member, attended: Iterable[str]) -> int:
    """Record afterwards who attended (member ids); everyone else is recorded as absent."""
    policy.require_organise(actor, occurrence.series)
    present = set(attended)
    active_ids = {str(i) for i in db.session.scalars(members_services.active_member_ids())}
    existing = {
        r.member_id: r
        for r in db.session.scalars(
            select(CallResponse).where(CallResponse.occurrence_id == occurrence.id)
        )
    }
    now = utcnow()
    for member_id in active_ids | set(existing):
        row = existing.get(member_id) or _response(occurrence, member_id)
        row.is_attended = member_id in present
        row.attendance_recorded_at = now
    db.session.flush()
    audit.record(
        "call.attendance_recorded",
        actor=actor,
        target_type="call_occurrence",
        target_id=occurrence.id,
        count=len(present & active_ids),
    )
    return len(present & active_ids)


def attendee_ids(occurrence: Occurrence) -> set[str]:
    """Who to tick on the attendance form: recorded attendees, else those who said attending.

    Only a pre-filled suggestion for the organiser: access (RED minutes) follows recorded
    attendance alone, `policy.recorded_attendee_ids`.
    """
    rows = db.session.execute(
        select(CallResponse.member_id, CallResponse.is_attended, CallResponse.answer).where(
            CallResponse.occurrence_id == occurrence.id
        )
    ).all()
    if any(is_attended is not None for _, is_attended, _ in rows):
        return {m for m, is_attended, _ in rows if is_attended}
    return {m for m, _, answer in rows if answer == "attending"}


# --- agenda -------------------------------------------------------------------------------


def propose_item(
    occurrence: Occurrence,
    *,
    member: Member,
    title: str,
    description: str = "",
    presenter: str = "",
) -> AgendaItem:
    """A member proposes an agenda item; it shows as proposed until an organiser accepts it."""
    series = policy.require_read(member, occurrence.series)
    title = " ".join(title.split())
    if not title:
        raise CallError(_("Please give the agenda item a title."))
    if len(title) > MAX_AGENDA_TITLE or len(description) > MAX_AGENDA_DESCRIPTION:
        raise CallError(
            _("An agenda item's title is at most 200 characters, its description 2,000.")
        )
    if occurrence.is_cancelled:
        raise CallError(_("This call has been cancelled."))
    item = AgendaItem(
        id=new_id(),
        occurrence_id=occurrence.id,
        proposer_id=member.id,
        status="proposed",
        position=_next_position(occurrence),
        created_at=utcnow(),
    )
    item.occurrence = occurrence
    item.seal("title", title, key_id=series.dek_id)
    item.seal("description", description.strip(), key_id=series.dek_id)
    item.seal("presenter", presenter.strip(), key_id=series.dek_id)
    db.session.add(item)
    db.session.flush()
    return item


def _next_position(occurrence: Occurrence) -> int:
    highest = db.session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.occurrence_id == occurrence.id)
    )
    return (highest or 0) + 1


def decide_item(
    item: AgendaItem, *, actor: Member, status: str, minutes_allotted: int | None = None
) -> AgendaItem:
    """An organiser accepts or declines an agenda item, and may give it a time slot in minutes."""
    policy.require_organise(actor, item.occurrence.series)
    if status not in ("accepted", "declined", "proposed"):
        raise CallError(_("Accept or decline the item."))
    if minutes_allotted is not None and not 1 <= minutes_allotted <= 600:
        raise CallError(_("An item's time is between 1 and 600 minutes."))
    item.status = status
    item.minutes_allotted = minutes_allotted
    db.session.flush()
    return item


def reorder(occurrence: Occurrence, *, actor: Member, item_ids: Sequence[str]) -> None:
    """An organiser orders the agenda: items in the given order first, the rest after."""
    policy.require_organise(actor, occurrence.series)
    items = {i.id: i for i in agenda(occurrence, viewer=actor)}
    unknown = [i for i in item_ids if i not in items]
    if unknown:
        raise CallError(_("That agenda item is not on this call."))
    ordered = list(dict.fromkeys(item_ids)) + [i for i in items if i not in item_ids]
    for position, item_id in enumerate(ordered, start=1):
        items[item_id].position = position
    db.session.flush()


def move_item(item: AgendaItem, *, actor: Member, direction: int) -> None:
    """Move an agenda item one place up (-1) or down (+1)."""
    items = agenda(item.occurrence, viewer=actor)
    ids = [i.id for i in items]
    index = ids.index(item.id)
    target = index + (-1 if direction < 0 else 1)
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
    reorder(item.occurrence, actor=actor, item_ids=ids)


def agenda(occurrence: Occurrence, *, viewer: Member) -> list[AgendaItem]:
    """The agenda in order: accepted items for everyone; proposals too for organisers and proposers."""
    series = policy.require_read(viewer, occurrence.series)
    items = list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.occurrence_id == occurrence.id)
            .order_by(AgendaItem.position, AgendaItem.created_at)
        )
    )
    if policy.can_organise(viewer, series):
        return items
    return [i for i in items if i.status == "accepted" or i.proposer_id == viewer.id]


def organised_item(actor: Member, item_id: str) -> AgendaItem:
    """An agenda item of a call the actor organises; NotFound if unseen, NotAllowed otherwise."""
    item = get_item(actor, item_id)
    policy.require_organise(actor, item.occurrence.series)
    return item


def get_item(actor: Member, item_id: str) -> AgendaItem:
    """An agenda item the actor may see, or NotFound."""
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        raise policy.NotFound
    policy.require_read(actor, item.occurrence.series)
    return item
