"""Starting and deleting threads, and the one name other features reach threads by.

Services take the acting member as an argument, ask forum.threads.policy, flush and never
commit (the request, job or command owns the commit). Posts are in forum.threads.posts, labels
and participants in forum.threads.labels; their functions are named here too. Other features
open threads through `start_thread` (alerts: a coordination thread; calls: a lessons-learned
thread from minutes)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import delete, select

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.markup import tlp
from forum.security import audit, limits
from forum.threads import attachments, notices, pii, policy
from forum.threads.bulk import bulk_add_posts
from forum.threads.categories import (
    DEFAULT_CATEGORIES,
    category_by_slug,
    create_category,
    ensure_default_categories,
    list_categories,
)
from forum.threads.errors import NotFound, PersonalDataWarning, ThreadError
from forum.threads.labels import (
    add_participant,
    change_label,
    change_participant,
    participants,
    remove_participant,
)
from forum.threads.models import (
    Attachment,
    Category,
    Flag,
    Post,
    PostRevision,
    ReadState,
    Thread,
    ThreadParticipant,
    Watch,
)
from forum.threads.posts import (
    add_post,
    delete_post,
    edit_post,
    editable_post,
    get_post,
    get_thread,
    post_history,
    quote_for,
    reply,
)
from forum.threads.reading import ThreadRow, unread_threads
from forum.threads.rules import (
    BODY_TOO_LONG,
    MAX_BODY,
    MAX_TAGS,
    MAX_TITLE,
    TITLE_TOO_LONG,
    check_body,
    follow,
    normalise_tags,
    record_change,
)

if TYPE_CHECKING:
    from forum.members.models import Member


__all__ = [
    "BODY_TOO_LONG",
    "DEFAULT_CATEGORIES",
    "MAX_BODY",
    "MAX_TAGS",
    "MAX_TITLE",
    "TITLE_TOO_LONG",
    "NotFound",
    "PersonalDataWarning",
    "ThreadError",
    "ThreadRow",
    "add_participant",
    "bulk_add_posts",
    "category_by_slug",
    "change_label",
    "change_participant",
    "create_category",
    "delete_post",
    "delete_thread",
    "edit_post",
    "editable_post",
    "ensure_default_categories",
    "get_post",
    "get_thread",
    "list_categories",
    "normalise_tags",
    "participants",
    "post_history",
    "quote_for",
    "remove_participant",
    "reply",
    "start_thread",
    "unread_threads",
]

# --- threads -----------------------------------------------------------------------------


def start_thread(
    *,
    author: Member,
    category: Category | None,
    title: str,
    body: str,
    label: str,
    participants: Sequence[Member] = (),
    tags: Sequence[str] = (),
    origin: str | None = None,
    pii_confirmed: bool = True,
) -> Thread:
    """Start a thread with its first post, sealed under a new data key; followers are told."""
    if not author.is_active_member:
        raise ThreadError(_("Only active members start threads."))
    title = " ".join(title.split())
    if not title:
        raise ThreadError(_("Please give the thread a title."), field="title")
    if len(title) > MAX_TITLE:
        raise ThreadError(str(TITLE_TOO_LONG), field="title")
    if not tlp.is_valid(label):
        raise ThreadError(_("Choose a TLP label."), field="label")
    clean_tags = normalise_tags(tags)
    if not pii_confirmed:
        findings = pii.scan(title + "\n" + body)
        if findings:
            raise PersonalDataWarning(findings)
    body = check_body(body, True)
    if origin is None:  # threads an alert or a call opens come with them
        limits.check(
            "threads_per_hour",
            author,
            author=Thread.author_id,
            created=Thread.created_at,
            where=(Thread.origin.is_(None),),
            error=ThreadError,
        )
    key = envelope.new_data_key("thread")
    now = utcnow()
    thread = Thread(
        id=new_id(),
        dek_id=key.id,
        category_id=category.id if category else None,
        author_id=author.id,
        label=label,
        origin=origin,
        created_at=now,
        last_post_at=now,
        post_count=0,
        last_seq=0,
    )
    thread.seal("title", title)
    thread.seal("tags", json.dumps(clean_tags))
    db.session.add(thread)
    db.session.flush()
    if label == tlp.RED:
        for member in participants:
            if member.id != author.id and member.is_active_member:
                db.session.add(
                    ThreadParticipant(
                        thread_id=thread.id,
                        member_id=member.id,
                        added_by_id=author.id,
                        added_at=now,
                    )
                )
    follow(author, thread)
    record_change(thread.id)
    db.session.flush()
    post = add_post(thread, author, body, now=now)
    audit.record(
        "threads.thread_started",
        actor=author,
        target_type="thread",
        target_id=thread.id,
        label=label,
    )
    notices.new_thread(thread, post, author)
    return thread


def delete_thread(*, actor: Member, thread: Thread) -> None:
    """Delete a thread and shred its data key: its text is then unrecoverable, backups included."""
    if not policy.can_delete_thread(actor, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    storage = list(
        db.session.scalars(select(Attachment.storage_name).where(Attachment.thread_id == thread.id))
    )
    key = db.session.get(envelope.DataKey, thread.dek_id)
    thread_id, label = thread.id, thread.label
    keys = set(db.session.scalars(select(Post.dek_id).where(Post.thread_id == thread.id)))
    keys |= set(
        db.session.scalars(select(Attachment.dek_id).where(Attachment.thread_id == thread.id))
    )
    for model in (Attachment, PostRevision):
        db.session.execute(delete(model).where(model.thread_id == thread.id))
    for model in (Flag, ReadState, Watch, ThreadParticipant):
        db.session.execute(delete(model).where(model.thread_id == thread.id))
    db.session.execute(delete(Post).where(Post.thread_id == thread.id))
    db.session.delete(thread)
    if key is not None:
        envelope.shred(key)
    envelope.shred_ids(keys)
    db.session.flush()
    record_change(thread_id)
    for name in storage:
        attachments.remove_after_commit(name)
    audit.record(
        "threads.thread_deleted",
        actor=actor,
        target_type="thread",
        target_id=thread_id,
        label=label,
    )
