"""A thread's TLP label and its named participants."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import delete, select

from forum.db import utcnow
from forum.extensions import db
from forum.markup import tlp
from forum.members import services as members_services
from forum.security import audit
from forum.threads import notices, policy, reading
from forum.threads.errors import NotFound, ThreadError
from forum.threads.models import (
    Post,
    Thread,
    ThreadParticipant,
    Watch,
)
from forum.threads.rules import (
    record_change,
)

if TYPE_CHECKING:
    from forum.members.models import Member


def change_label(*, actor: Member, thread: Thread, label: str, confirm_lowering: bool) -> None:
    """Change a thread's TLP label; lowering it needs an explicit confirmation and is audited."""
    if not policy.can_change_label(actor, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if not tlp.is_valid(label):
        raise ThreadError(_("Choose a TLP label."))
    if label == thread.label:
        return
    lowering = tlp.is_lowering(thread.label, label)
    if lowering and not confirm_lowering:
        raise ThreadError(
            _(
                "Lowering the label to %(label)s lets more people read and share "
                "this thread. Tick the box to confirm.",
                label=tlp.get(label).display,
            )
        )
    previous = thread.label
    if previous != tlp.RED and label == tlp.RED:
        # Raising to RED: everyone who has taken part stays a participant, nobody else.
        authors = set(db.session.scalars(select(Post.author_id).where(Post.thread_id == thread.id)))
        for member_id in authors - {thread.author_id}:
            if db.session.get(ThreadParticipant, (thread.id, member_id)) is None:
                db.session.add(
                    ThreadParticipant(
                        thread_id=thread.id,
                        member_id=member_id,
                        added_by_id=actor.id,
                        added_at=utcnow(),
                    )
                )
    thread.label = label
    db.session.flush()
    record_change(thread.id)
    audit.record(
        "threads.label_lowered" if lowering else "threads.label_raised",
        actor=actor,
        target_type="thread",
        target_id=thread.id,
        from_label=previous,
        to_label=label,
    )


def participants(thread: Thread) -> list[Member]:
    """The named participants of a thread, its starter first."""
    rows = members_services.members_by_id(reading.participant_ids(thread)).values()
    return [thread.author, *[m for m in rows if m.id != thread.author_id]]


def change_participant(*, actor: Member, thread: Thread, member_id: str, action: str) -> None:
    """Add a member to a RED thread, or remove them ("remove"), by id (its starter only)."""
    if not policy.can_manage_participants(actor, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    member = members_services.get_member(member_id)
    if member is None:
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if action == "remove":
        remove_participant(actor=actor, thread=thread, member=member)
    else:
        add_participant(actor=actor, thread=thread, member=member)


def add_participant(*, actor: Member, thread: Thread, member: Member) -> None:
    """Name a member on a RED thread (its starter only)."""
    if not policy.can_manage_participants(actor, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if not member.is_active_member:
        raise ThreadError(_("Only active members can be added."))
    if policy.is_participant(member, thread):
        return
    db.session.add(
        ThreadParticipant(
            thread_id=thread.id, member_id=member.id, added_by_id=actor.id, added_at=utcnow()
        )
    )
    db.session.flush()
    record_change(thread.id)
    audit.record(
        "threads.participant_added",
        actor=actor,
        target_type="member",
        target_id=member.id,
        thread_id=thread.id,
    )
    notices.added_to_thread(thread, member, actor)


def remove_participant(*, actor: Member, thread: Thread, member: Member) -> None:
    """Take a member off a RED thread (its starter only; the starter stays)."""
    if not policy.can_manage_participants(actor, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if member.id == thread.author_id:
        raise ThreadError(_("The starter of a thread always stays on it."))
    db.session.execute(
        delete(ThreadParticipant).where(
            ThreadParticipant.thread_id == thread.id, ThreadParticipant.member_id == member.id
        )
    )
    db.session.execute(
        delete(Watch).where(Watch.member_id == member.id, Watch.thread_id == thread.id)
    )
    db.session.flush()
    record_change(thread.id)
    audit.record(
        "threads.participant_removed",
        actor=actor,
        target_type="member",
        target_id=member.id,
        thread_id=thread.id,
    )
