"""Who may see, read, write and moderate a thread: the one place that decides.

Every service, route, attachment download, search result and notification of the threads
feature asks these functions. A member who may not read a thread is told it does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, false, or_, select

from forum.errors import NotAllowed
from forum.extensions import db
from forum.markup import tlp
from forum.threads.models import Post, Thread, ThreadParticipant

if TYPE_CHECKING:
    from forum.members.models import Member


def _active(member: Any) -> bool:
    return bool(
        member is not None
        and getattr(member, "is_authenticated", False)
        and getattr(member, "status", None) == "active"
    )


def is_participant(member: Member, thread: Thread) -> bool:
    """Whether the member is named on the thread (the starter always is)."""
    if thread.author_id == member.id:
        return True
    return db.session.get(ThreadParticipant, (thread.id, member.id)) is not None


def can_read(member: Any, thread: Thread | None) -> bool:
    """Whether the member may read the thread's title, posts and attachments."""
    if thread is None or not _active(member):
        return False
    if thread.label == tlp.RED:
        return is_participant(member, thread)
    return True


def can_see_existence(member: Any, thread: Thread | None) -> bool:
    """Whether the member may know the thread exists (coordinators see RED threads' existence)."""
    if thread is None or not _active(member):
        return False
    return can_read(member, thread) or (thread.label == tlp.RED and member.is_coordinator)


def can_post(member: Any, thread: Thread | None) -> bool:
    """Whether the member may reply in the thread (a readable, unlocked thread)."""
    if not can_read(member, thread):
        return False
    assert thread is not None
    return not thread.is_locked or member.is_coordinator


def can_moderate(member: Any, thread: Thread | None) -> bool:
    """Whether the member may hide posts, lock, pin and move the thread."""
    return can_read(member, thread) and bool(member.is_coordinator)


def can_change_label(member: Any, thread: Thread | None) -> bool:
    """Whether the member may change the thread's TLP label (its starter or a coordinator)."""
    if not can_read(member, thread):
        return False
    assert thread is not None
    return thread.author_id == member.id or bool(member.is_coordinator)


def can_manage_participants(member: Any, thread: Thread | None) -> bool:
    """Whether the member may add and remove participants of a RED thread (its starter)."""
    if thread is None or thread.label != tlp.RED or not can_read(member, thread):
        return False
    return thread.author_id == member.id


def can_delete_thread(member: Any, thread: Thread | None) -> bool:
    """Whether the member may delete the thread: its starter, or a coordinator who can see it."""
    if not can_see_existence(member, thread):
        return False
    assert thread is not None
    return thread.author_id == member.id or bool(member.is_coordinator)


def can_edit_post(member: Any, thread: Thread | None, post: Post) -> bool:
    """Whether the member may edit the post: its author, in a thread they may still post in."""
    return (
        post.author_id == getattr(member, "id", None)
        and not post.is_deleted
        and can_post(member, thread)
    )


def can_delete_post(member: Any, thread: Thread | None, post: Post) -> bool:
    """Whether the member may delete the post: its author or a coordinator, if they can read it."""
    if post.is_deleted or not can_read(member, thread):
        return False
    return post.author_id == member.id or bool(member.is_coordinator)


def can_see_post(member: Any, thread: Thread | None, post: Post) -> bool:
    """Whether a hidden post's content is shown: to coordinators and its author only."""
    if not can_read(member, thread):
        return False
    if post.is_hidden:
        return post.author_id == member.id or bool(member.is_coordinator)
    return True


def readable_clause(member: Member) -> ColumnElement[bool]:
    """SQL condition on Thread: the threads this member may read (same rule as can_read)."""
    if not _active(member):
        return false()
    participant = exists(
        select(ThreadParticipant.thread_id).where(
            ThreadParticipant.thread_id == Thread.id, ThreadParticipant.member_id == member.id
        )
    )
    return or_(Thread.label != tlp.RED, Thread.author_id == member.id, participant)


def visible_clause(member: Member) -> ColumnElement[bool]:
    """SQL condition on Thread: the threads this member may know exist (can_see_existence)."""
    if not _active(member):
        return false()
    if member.is_coordinator:
        return Thread.id.is_not(None)
    return readable_clause(member)


def readable_thread_ids(member: Member, thread_ids: set[str] | None = None) -> set[str]:
    """Ids of threads this member may read (optionally only among the given ids)."""
    query = select(Thread.id).where(readable_clause(member))
    if thread_ids is not None:
        if not thread_ids:
            return set()
        query = query.where(and_(Thread.id.in_(thread_ids)))
    return set(db.session.scalars(query))


def require_coordinator(member: Any) -> None:
    """Refuse (403) anyone but a coordinator: the one check for the coordinators' pages."""
    if not member.is_coordinator:
        raise NotAllowed(_("Only coordinators may do this."))


def thread_rights(member: Any, thread: Thread) -> dict[str, bool]:
    """What the member may do on the thread, for its pages (hiding a link is not access control)."""
    return {
        "post": can_post(member, thread),
        "moderate": can_moderate(member, thread),
        "change_label": can_change_label(member, thread),
        "manage": can_change_label(member, thread) or can_moderate(member, thread),
        "manage_participants": can_manage_participants(member, thread),
        "delete_thread": can_delete_thread(member, thread),
    }


def post_rights(member: Any, thread: Thread, posts: list[Post]) -> dict[str, dict[str, bool]]:
    """What the member may do on each post of a page, by post id."""
    return {
        post.id: {
            "see": not post.is_hidden or can_see_post(member, thread, post),
            "edit": can_edit_post(member, thread, post),
            "delete": can_delete_post(member, thread, post),
        }
        for post in posts
    }
