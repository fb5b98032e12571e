"""Minutes after a call: Markdown, sealed, with a TLP label and action items with owners.

Minutes labelled TLP:RED are for the call's organisers and the members who attended it only
(attendance as recorded, or the RSVPs until it is); every other label is for all active members.
The Markdown is rendered by the threads feature's renderer, so posts and minutes allow the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from forum.calls import participation, policy
from forum.calls.models import ActionItem, Minutes, Occurrence
from forum.calls.services import CallError
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.notify.outbox import notify
from forum.security import audit
from forum.threads import markdown, tlp
from forum.threads import services as thread_services

MAX_BODY = 100_000


@dataclass(frozen=True)
class ActionInput:
    """One action item as the organiser typed it."""

    text: str
    owner: Member | None = None


def can_read_minutes(member: Member | None, minutes: Minutes) -> bool:
    """Whether a member may read these minutes (TLP:RED: organisers and attendees only)."""
    occurrence = minutes.occurrence
    if not policy.can_read(member, occurrence.series) or member is None:
        return False
    if minutes.label != tlp.RED:
        return True
    return policy.can_organise(
        member, occurrence.series
    ) or member.id in participation.attendee_ids(occurrence)


def minutes_of(occurrence: Occurrence, *, viewer: Member) -> Minutes | None:
    """The occurrence's minutes if they exist and the viewer may read them."""
    policy.require_read(viewer, occurrence.series)
    minutes = db.session.scalar(select(Minutes).where(Minutes.occurrence_id == occurrence.id))
    if minutes is None or not can_read_minutes(viewer, minutes):
        return None
    return minutes


def write_minutes(
    occurrence: Occurrence,
    *,
    actor: Member,
    body: str,
    label: str,
    action_items: Sequence[ActionInput] = (),
) -> Minutes:
    """Write or rewrite the minutes of an occurrence; readers are notified the first time."""
    series = policy.require_organise(actor, occurrence.series)
    if not body.strip():
        raise CallError("The minutes are empty.")
    if len(body) > MAX_BODY:
        raise CallError("Minutes are at most 100,000 characters.")
    if not tlp.is_valid(label):
        raise CallError("Choose a TLP label for the minutes.")
    minutes = db.session.scalar(select(Minutes).where(Minutes.occurrence_id == occurrence.id))
    is_new = minutes is None
    now = utcnow()
    if minutes is None:
        minutes = Minutes(
            id=new_id(), occurrence_id=occurrence.id, author_id=actor.id, created_at=now
        )
        minutes.occurrence = occurrence
        db.session.add(minutes)
    elif tlp.get(label).strength < tlp.get(minutes.label).strength:
        audit.record(
            "call.minutes_label_lowered",
            actor=actor,
            target_type="call_minutes",
            target_id=minutes.id,
            from_label=minutes.label,
            to_label=label,
        )
    minutes.label = label
    minutes.updated_at = now
    minutes.seal(series.dek_id, "body", body)
    minutes.action_items.clear()
    db.session.flush()
    for position, action in enumerate(a for a in action_items if a.text.strip()):
        item = ActionItem(id=new_id(), minutes_id=minutes.id, position=position)
        item.owner_id = action.owner.id if action.owner else None
        item.seal(series.dek_id, "text", action.text.strip())
        minutes.action_items.append(item)
    db.session.flush()
    if is_new:
        _announce(minutes, occurrence)
    audit.record(
        "call.minutes_written",
        actor=actor,
        target_type="call_minutes",
        target_id=minutes.id,
        occurrence_id=occurrence.id,
        label=label,
    )
    return minutes


def _announce(minutes: Minutes, occurrence: Occurrence) -> None:
    series = occurrence.series
    readers = [
        m
        for m in db.session.scalars(select(Member).where(Member.status == "active"))
        if can_read_minutes(m, minutes)
    ]
    notify(
        readers,
        event_key=f"call-minutes:{minutes.id}",
        kind="call_minutes",
        text=f"Minutes of {series.title} are available.",
        key=series.dek_id,
        link=f"/calls/occurrences/{occurrence.id}#minutes",
        email_subject="The minutes of a call are available",
        email_body="The minutes of a call are available on the Exchange. Sign in to read them.",
    )


def rendered(minutes: Minutes) -> str:
    """The minutes as sanitised HTML."""
    return markdown.render(minutes.open("body"))


def set_action_done(item: ActionItem, *, actor: Member, is_done: bool) -> None:
    """The owner or an organiser marks an action item done (or open again)."""
    occurrence = item.minutes.occurrence
    if not can_read_minutes(actor, item.minutes):
        raise policy.NotFound
    if actor.id != item.owner_id and not policy.can_organise(actor, occurrence.series):
        raise policy.NotAllowed("Only the owner or an organiser may close an action item.")
    item.is_done = is_done
    db.session.flush()


def open_lessons_thread(
    minutes: Minutes, *, actor: Member, category_slug: str | None = None
) -> str:
    """Start a lessons-learned thread from the minutes in one step; returns the thread id."""
    occurrence = minutes.occurrence
    series = policy.require_organise(actor, occurrence.series)
    if minutes.thread_id:
        return minutes.thread_id
    participants: list[Member] = []
    if minutes.label == tlp.RED:
        ids = participation.attendee_ids(occurrence) | series.organiser_ids
        participants = list(db.session.scalars(select(Member).where(Member.id.in_(ids))))
    category = thread_services.category_by_slug(category_slug) if category_slug else None
    local = occurrence.starts_at.strftime("%d %B %Y")
    actions = "\n".join(
        f"- {a.open('text')}" + (f" (owner: {_name(a.owner_id)})" if a.owner_id else "")
        for a in minutes.action_items
    )
    body = f"Lessons learned from the call of {local}.\n\n{minutes.open('body')}"
    if actions:
        body += f"\n\n**Action items**\n\n{actions}"
    thread = thread_services.start_thread(
        author=actor,
        category=category,
        title=f"Lessons learned: {series.title} ({local})",
        body=body,
        label=minutes.label,
        participants=participants,
        tags=("lessons-learned",),
        origin=f"call_minutes:{minutes.id}",
    )
    minutes.thread_id = thread.id
    db.session.flush()
    return str(thread.id)


def _name(member_id: str | None) -> str:
    member = db.session.get(Member, member_id) if member_id else None
    return member.display_name if member else "someone"


def get_action_item(actor: Member, item_id: str) -> ActionItem:
    """An action item the actor may see, or NotFound."""
    item = db.session.get(ActionItem, item_id)
    if item is None or not can_read_minutes(actor, item.minutes):
        raise policy.NotFound
    return item
