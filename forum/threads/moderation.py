"""Moderation: flags on posts, hiding posts, locking, pinning and moving threads.

Every coordinator action is written to the audit log (ids and labels only, never content).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from forum.db import new_id, utcnow
from forum.extensions import db
from forum.security import audit
from forum.threads import content, policy, services
from forum.threads.models import Category, Flag, Post, Thread
from forum.threads.rules import record_change
from forum.threads.services import NotFound, ThreadError

if TYPE_CHECKING:
    from forum.members.models import Member

MAX_REASON = 1000


def flag_post(*, reporter: Member, post: Post, reason: str) -> Flag:
    """Report a post to the coordinators with a reason (any reader of the thread)."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_see_post(reporter, thread, post) or post.is_deleted:
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    assert thread is not None
    reason = reason.strip()
    if not reason:
        raise ThreadError(_("Please say why you are flagging this post."))
    if len(reason) > MAX_REASON:
        raise ThreadError(_("A reason may be at most %(limit)d characters long.", limit=MAX_REASON))
    flag = Flag(
        id=new_id(),
        post_id=post.id,
        thread_id=thread.id,
        reporter_id=reporter.id,
        created_at=utcnow(),
    )
    flag.seal("reason", reason, key_id=thread.dek_id)
    db.session.add(flag)
    db.session.flush()
    audit.record(
        "threads.post_flagged",
        actor=reporter,
        target_type="post",
        target_id=post.id,
        thread_id=thread.id,
    )
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
    policy.require_coordinator(coordinator)
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


def resolve_flag_by_id(*, coordinator: Member, flag_id: str, action: str) -> None:
    """Hide the flagged post ("hide") or dismiss the flag ("dismiss"), for a coordinator."""
    policy.require_coordinator(coordinator)
    found = db.session.get(Flag, flag_id)
    if found is None or action not in ("hide", "dismiss"):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    resolve_flag(coordinator=coordinator, flag=found, hide=action == "hide")


def moderate(*, coordinator: Member, thread: Thread, action: str, category_id: str = "") -> None:
    """Lock, unlock, pin, unpin or move (to `category_id`) a thread."""
    if not policy.can_moderate(coordinator, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if action in ("lock", "unlock"):
        set_locked(coordinator=coordinator, thread=thread, locked=action == "lock")
    elif action in ("pin", "unpin"):
        set_pinned(coordinator=coordinator, thread=thread, pinned=action == "pin")
    elif action == "move":
        target = db.session.get(Category, category_id) if category_id else None
        if target is None:
            raise NotFound(_("There is no such category."))
        move(coordinator=coordinator, thread=thread, category=target)
    else:
        raise NotFound(_("There is nothing here, or it is not yours to see."))


def resolve_flag(*, coordinator: Member, flag: Flag, hide: bool) -> None:
    """Close a flag, hiding its post or dismissing it."""
    thread = db.session.get(Thread, flag.thread_id)
    if not policy.can_moderate(coordinator, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if hide:
        post = db.session.get(Post, flag.post_id)
        if post is not None:
            set_hidden(coordinator=coordinator, post=post, hidden=True)
    flag.resolved_at = utcnow()
    flag.resolved_by_id = coordinator.id
    flag.resolution = "hidden" if hide else "dismissed"
    db.session.flush()
    audit.record(
        "threads.flag_resolved",
        actor=coordinator,
        target_type="flag",
        target_id=flag.id,
        result=flag.resolution,
        post_id=flag.post_id,
    )


def set_hidden(*, coordinator: Member, post: Post, hidden: bool) -> None:
    """Hide a post from members (or show it again); its author and coordinators still see it."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_moderate(coordinator, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if post.is_hidden == hidden:
        return
    post.is_hidden = hidden
    record_change(post.thread_id, post.id)
    db.session.flush()
    audit.record(
        "threads.post_hidden" if hidden else "threads.post_unhidden",
        actor=coordinator,
        target_type="post",
        target_id=post.id,
        thread_id=post.thread_id,
    )


def post_action(*, actor: Member, post: Post, action: str) -> None:
    """Delete (its author or a coordinator), hide or unhide (coordinators) a post."""
    if action == "delete":
        services.delete_post(actor=actor, post=post)
    elif action in ("hide", "unhide"):
        set_hidden(coordinator=actor, post=post, hidden=action == "hide")
    else:
        raise NotFound(_("There is nothing here, or it is not yours to see."))


def set_locked(*, coordinator: Member, thread: Thread, locked: bool) -> None:
    """Lock a thread against replies, or unlock it."""
    if not policy.can_moderate(coordinator, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if thread.is_locked != locked:
        thread.is_locked = locked
        db.session.flush()
        audit.record(
            "threads.locked" if locked else "threads.unlocked",
            actor=coordinator,
            target_type="thread",
            target_id=thread.id,
            label=thread.label,
        )


def set_pinned(*, coordinator: Member, thread: Thread, pinned: bool) -> None:
    """Pin a thread to the top of its lists, or unpin it."""
    if not policy.can_moderate(coordinator, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if thread.is_pinned != pinned:
        thread.is_pinned = pinned
        db.session.flush()
        audit.record(
            "threads.pinned" if pinned else "threads.unpinned",
            actor=coordinator,
            target_type="thread",
            target_id=thread.id,
            label=thread.label,
        )


def move(*, coordinator: Member, thread: Thread, category: Category) -> None:
    """Move a thread to another category."""
    if not policy.can_moderate(coordinator, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if thread.category_id == category.id:
        return
    previous = thread.category_id
    thread.category_id = category.id
    record_change(thread.id)
    db.session.flush()
    audit.record(
        "threads.moved",
        actor=coordinator,
        target_type="thread",
        target_id=thread.id,
        category_id=category.id,
        kind=f"from:{previous}",
    )
