"""Minutes after a call: Markdown, sealed, with a TLP label and action items with owners.

Who may read them is decided by `policy.can_read_minutes`: TLP:RED minutes are for the call's
organisers and the members recorded as having attended it (an RSVP is not attendance); every
other label is for everyone who may see the call. The notice of new minutes and the participants
of their lessons-learned thread follow the same rule, and every read of TLP:RED minutes is
written to the audit log. The Markdown is rendered by the threads feature's renderer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, SessionTransaction

from forum import drafts
from forum.calls import policy
from forum.calls.models import ActionItem, Minutes, Occurrence
from forum.calls.services import CallError
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.markup import markdown, tlp
from forum.members import services as members_services
from forum.notify.outbox import notify
from forum.security import audit
from forum.security.audit import AuditEvent
from forum.templating import format_local
from forum.threads import services as thread_services

if TYPE_CHECKING:
    from forum.members.models import Member

log = logging.getLogger(__name__)

MAX_BODY = 100_000
RED_READS_KEY = "calls.red_minutes_reads"


@dataclass(frozen=True)
class ActionInput:
    """One action item as the organiser typed it."""

    text: str
    owner: Member | None = None


def minutes_of(occurrence: Occurrence, *, viewer: Member) -> Minutes | None:
    """The occurrence's minutes if they exist and the viewer may read them (RED reads audited)."""
    policy.require_read(viewer, occurrence.series)
    minutes = db.session.scalar(select(Minutes).where(Minutes.occurrence_id == occurrence.id))
    if minutes is None or not policy.can_read_minutes(viewer, minutes):
        return None
    if minutes.label == tlp.RED:
        _audit_red_read(viewer, minutes)
    return minutes


def _audit_red_read(member: Member, minutes: Minutes) -> None:
    """Queue who read TLP:RED minutes for the audit log (ids and the label only).

    A GET commits nothing and a POST holds SQLite's write lock up front, so, as for RED threads
    (threads.reading.record_read), the row is written on its own connection and committed at
    once, right after the reading transaction ends, whether it committed or rolled back.
    """
    db.session.info.setdefault(RED_READS_KEY, []).append(
        {
            "id": new_id(),
            "at": utcnow(),
            "actor_id": member.id,
            "action": "call.minutes_red_read",
            "target_type": "call_minutes",
            "target_id": minutes.id,
            "details": json.dumps(
                {"label": tlp.RED, "occurrence_id": minutes.occurrence_id}, sort_keys=True
            ),
        }
    )


@event.listens_for(Session, "after_transaction_end")
def _write_red_reads(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or not session.info.get(RED_READS_KEY):
        return
    rows = session.info.pop(RED_READS_KEY)
    try:
        engine = session.get_bind()
        assert isinstance(engine, Engine)  # the app binds its session to an engine
        with engine.connect().execution_options(sqlite_immediate=True) as connection:
            with connection.begin():
                connection.execute(AuditEvent.__table__.insert(), rows)
    except Exception:
        log.exception("RED minutes reads not audited: %s", [r["target_id"] for r in rows])


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
        raise CallError(_("The minutes are empty."))
    if len(body) > MAX_BODY:
        raise CallError(_("Minutes are at most 100,000 characters."))
    if not tlp.is_valid(label):
        raise CallError(_("Choose a TLP label for the minutes."))
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
    minutes.seal("body", body, key_id=series.dek_id)
    minutes.action_items.clear()
    db.session.flush()
    for position, action in enumerate(a for a in action_items if a.text.strip()):
        item = ActionItem(id=new_id(), minutes_id=minutes.id, position=position)
        item.owner_id = action.owner.id if action.owner else None
        item.seal("text", action.text.strip(), key_id=series.dek_id)
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


def save_minutes(
    occurrence: Occurrence,
    *,
    actor: Member,
    body: str,
    label: str,
    actions: Sequence[tuple[str, str]] = (),
) -> Minutes:
    """Write the minutes from the form: action items as (text, owner id); the draft is spent."""
    owners = members_services.members_by_id(owner for _text, owner in actions if owner)
    written = write_minutes(
        occurrence,
        actor=actor,
        body=body,
        label=label,
        action_items=[ActionInput(text=text, owner=owners.get(owner)) for text, owner in actions],
    )
    drafts.discard(actor.id, f"minutes:{occurrence.id}")
    return written


def _announce(minutes: Minutes, occurrence: Occurrence) -> None:
    series = occurrence.series
    readers = [m for m in members_services.active_members() if policy.can_read_minutes(m, minutes)]
    notify(
        readers,
        event_key=f"call-minutes:{minutes.id}",
        kind="call_minutes",
        text=_l("Minutes of %(title)s are available.", title=series.title),
        key=series.dek_id,
        link=f"/calls/occurrences/{occurrence.id}#minutes",
        email_subject=_l("The minutes of a call are available"),
        email_body=_l("The minutes of a call are available on the Exchange. Sign in to read them."),
    )


def rendered(minutes: Minutes) -> str:
    """The minutes as sanitised HTML."""
    return markdown.render(minutes.open("body"))


def set_action_done(item: ActionItem, *, actor: Member, is_done: bool) -> None:
    """The owner or an organiser marks an action item done (or open again)."""
    occurrence = item.minutes.occurrence
    policy.require_read_minutes(actor, item.minutes)
    if actor.id != item.owner_id and not policy.can_organise(actor, occurrence.series):
        raise policy.NotAllowed(_("Only the owner or an organiser may close an action item."))
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
        # Exactly the minutes' readers: organisers (coordinators too) and recorded attendees.
        active = members_services.active_members()
        participants = [m for m in active if policy.can_read_minutes(m, minutes)]
    category = thread_services.category_by_slug(category_slug) if category_slug else None
    local = format_local(occurrence.starts_at, "%d %B %Y")
    actions = "\n".join(
        f"- {a.open('text')}"
        + (" " + _("(owner: %(name)s)", name=_name(a.owner_id)) if a.owner_id else "")
        for a in minutes.action_items
    )
    body = _("Lessons learned from the call of %(date)s.", date=local)
    body += f"\n\n{minutes.open('body')}"
    if actions:
        body += "\n\n**" + _("Action items") + f"**\n\n{actions}"
    thread = thread_services.start_thread(
        author=actor,
        category=category,
        title=_("Lessons learned: %(title)s (%(date)s)", title=series.title, date=local),
        body=body,
        label=minutes.label,
        participants=participants,
        tags=("lessons-learned",),
        origin=f"call_minutes:{minutes.id}",
    )
    minutes.thread_id = thread.id
    db.session.flush()
    return str(thread.id)


def start_lessons_thread(occurrence: Occurrence, *, actor: Member) -> str:
    """The lessons-learned thread of an occurrence's minutes, started now if need be (its id)."""
    policy.require_organise(actor, occurrence.series)
    existing = minutes_of(occurrence, viewer=actor)
    if existing is None:
        raise policy.NotFound
    try:
        return open_lessons_thread(existing, actor=actor)
    except thread_services.ThreadError as error:
        raise CallError(str(error) or _("The thread could not be started.")) from error


def _name(member_id: str | None) -> str:
    member = members_services.get_member(member_id)
    return member.display_name if member else _("someone")


def get_action_item(actor: Member, item_id: str) -> ActionItem:
    """An action item the actor may see, or NotFound."""
    item = db.session.get(ActionItem, item_id)
    if item is None:
        raise policy.NotFound
    policy.require_read_minutes(actor, item.minutes)
    return item
