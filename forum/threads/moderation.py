"""Moderation: flags on posts, hiding posts, locking, pinning and moving threads.

Every coordinator action is written to the audit log (ids and labels only, never content).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.security import audit
from forum.threads import content, policy
from forum.threads.models import Category, Flag, Post, SearchChange, Thread
from forum.threads.services import NotFound, ThreadError

MAX_REASON = 1000


def flag_post(*, reporter: Member, post: Post, reason: str) -> Flag:
    """Report a post to the coordinators with a reason (any reader of the thread)."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_see_post(reporter, thread, post) or post.is_deleted:
        raise NotFound("There is nothing here, or it is not yours to see.")
    assert thread is not None
    reason = reason.strip()
    if not reason:
        raise ThreadError("Please say why you are flagging this post.")
    if len(reason) > MAX_REASON:
        raise ThreadError(f"A reason may be at most {MAX_REASON} characters long.")
    flag = Flag(id=new_id(), post_id=post.id, thread_id=thread.id, reporter_id=reporter.id,
                created_at=utcnow())  # fmt: skip
    flag.reason_sealed = content.seal(thread.dek_id, "flag", flag.id, "reason", reason)
    db.session.add(flag)
    db.session.flush()
    audit.record("threads.post_flagged", actor=reporter, target_type="post", target_id=post.id,
                 thread_id=thread.id)  # fmt: skip
    return flag


@dataclass
class OpenFlag:
    """A flag as a coordinator sees it (reason opened only if they may read the thread)."""

    flag: Flag
    thread: Thread
    reason: str | None
    title: str | None


def open_flags(coordinator: Member) -> list[OpenFlag]:
    """Unresolved flags on threads the coordinator may see; RED contents only for participants."""
    if not coordinator.is_coordinator:
        raise NotFound("There is nothing here, or it is not yours to see.")
    flags = db.session.scalars(
        select(Flag).where(Flag.resolved_at.is_(None)).order_by(Flag.created_at)
    )
    result = []
    for flag in flags:
        thread = db.session.get(Thread, flag.thread_id)
        if not policy.can_see_existence(coordinator, thread):
            continue
        assert thread is not None
        readable = policy.can_read(coordinator, thread)
        result.append(
            OpenFlag(
                flag=flag,
                thread=thread,
                reason=content.flag_reason(flag) if readable else None,
                title=content.title(thread) if readable else None,
            )
        )
    return result


def resolve_flag(*, coordinator: Member, flag: Flag, hide: bool) -> None:
    """Close a flag, hiding its post or dismissing it."""
    thread = db.session.get(Thread, flag.thread_id)
    if not policy.can_moderate(coordinator, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if hide:
        post = db.session.get(Post, flag.post_id)
        if post is not None:
            set_hidden(coordinator=coordinator, post=post, hidden=True)
    flag.resolved_at = utcnow()
    flag.resolved_by_id = coordinator.id
    flag.resolution = "hidden" if hide else "dismissed"
    db.session.flush()
    audit.record("threads.flag_resolved", actor=coordinator, target_type="flag",
                 target_id=flag.id, result=flag.resolution, post_id=flag.post_id)  # fmt: skip


def set_hidden(*, coordinator: Member, post: Post, hidden: bool) -> None:
    """Hide a post from members (or show it again); its author and coordinators still see it."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_moderate(coordinator, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if post.is_hidden == hidden:
        return
    post.is_hidden = hidden
    db.session.add(SearchChange(thread_id=post.thread_id, post_id=post.id, created_at=utcnow()))
    db.session.flush()
    audit.record("threads.post_hidden" if hidden else "threads.post_unhidden",
                 actor=coordinator, target_type="post", target_id=post.id,
                 thread_id=post.thread_id)  # fmt: skip


def set_locked(*, coordinator: Member, thread: Thread, locked: bool) -> None:
    """Lock a thread against replies, or unlock it."""
    if not policy.can_moderate(coordinator, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if thread.is_locked != locked:
        thread.is_locked = locked
        db.session.flush()
        audit.record("threads.locked" if locked else "threads.unlocked", actor=coordinator,
                     target_type="thread", target_id=thread.id, label=thread.label)  # fmt: skip


def set_pinned(*, coordinator: Member, thread: Thread, pinned: bool) -> None:
    """Pin a thread to the top of its lists, or unpin it."""
    if not policy.can_moderate(coordinator, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if thread.is_pinned != pinned:
        thread.is_pinned = pinned
        db.session.flush()
        audit.record("threads.pinned" if pinned else "threads.unpinned", actor=coordinator,
                     target_type="thread", target_id=thread.id, label=thread.label)  # fmt: skip


def move(*, coordinator: Member, thread: Thread, category: Category) -> None:
    """Move a thread to another category."""
    if not policy.can_moderate(coordinator, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if thread.category_id == category.id:
        return
    previous = thread.category_id
    thread.category_id = category.id
    db.session.add(SearchChange(thread_id=thread.id, created_at=utcnow()))
    db.session.flush()
    audit.record("threads.moved", actor=coordinator, target_type="thread", target_id=thread.id,
                 category_id=category.id, kind=f"from:{previous}")  # fmt: skip
