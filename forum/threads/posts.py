"""Finding, replying to, editing and deleting posts (and the lookups the routes share)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.orm import joinedload

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.markup import markdown
from forum.security import audit
from forum.threads import attachments, content, notices, policy
from forum.threads.errors import NotFound, ThreadError
from forum.threads.models import (
    Attachment,
    Post,
    PostRevision,
    Thread,
)
from forum.threads.rules import (
    check_body,
    follow,
    record_change,
)

if TYPE_CHECKING:
    from forum.members.models import Member


def get_thread(member: Member, thread_id: str, *, need: str = "read") -> Thread:
    """The thread, if the member may `need` it ("read", "exist", "post"); NotFound otherwise."""
    # Its category comes in the same statement: every thread page names it.
    thread = (
        db.session.get(Thread, thread_id, options=[joinedload(Thread.category)])
        if len(thread_id) == 32
        else None
    )
    check = {
        "read": policy.can_read,
        "exist": policy.can_see_existence,
        "post": policy.can_read,
    }[need]
    if thread is None or not check(member, thread):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    if need == "post" and not policy.can_post(member, thread):
        raise ThreadError(_("This thread is locked: no new replies."))
    return thread


def get_post(member: Member, post_id: str) -> tuple[Thread, Post]:
    """A post and its thread, if the member may read the thread; NotFound otherwise."""
    post = db.session.get(Post, post_id) if len(post_id) == 32 else None
    if post is None:
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_read(member, thread) or (
        post.is_hidden and not policy.can_see_post(member, thread, post)
    ):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    assert thread is not None
    return thread, post


def editable_post(member: Member, post_id: str) -> tuple[Thread, Post]:
    """A post and its thread, if the member may edit the post; NotFound otherwise."""
    thread, post = get_post(member, post_id)
    if not policy.can_edit_post(member, thread, post):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    return thread, post


def quote_for(member: Member, thread: Thread, post_id: str) -> Post | None:
    """The post to quote in a reply to `thread`: only a readable post of that same thread."""
    post = db.session.get(Post, post_id) if len(post_id or "") == 32 else None
    if post is None or post.thread_id != thread.id or post.is_deleted:
        return None
    if not policy.can_read(member, thread) or not policy.can_see_post(member, thread, post):
        return None
    return post


def add_post(
    thread: Thread, author: Member, body: str, *, now: datetime, quote_of: str | None = None
) -> Post:
    seq = db.session.execute(
        update(Thread)
        .where(Thread.id == thread.id)
        .values(last_seq=Thread.last_seq + 1, post_count=Thread.post_count + 1, last_post_at=now)
        .returning(Thread.last_seq)
    ).scalar_one()
    db.session.refresh(thread, ["last_seq", "post_count", "last_post_at"])
    key = envelope.new_data_key("post")  # the post's own key: deleting the post shreds it
    post = Post(
        id=new_id(),
        thread_id=thread.id,
        seq=seq,
        dek_id=key.id,
        author_id=author.id,
        quote_of_id=quote_of,
        created_at=now,
    )
    post.seal("body", body)
    post.seal("html", markdown.render(body))
    db.session.add(post)
    db.session.flush()
    record_change(thread.id, post.id)
    return post


def reply(
    *,
    author: Member,
    thread: Thread,
    body: str,
    quote_of: Post | None = None,
    pii_confirmed: bool = False,
) -> Post:
    """Add a post to a thread the author may post in; followers and mentioned readers are told."""
    if not policy.can_post(author, thread):
        if policy.can_read(author, thread):
            raise ThreadError(_("This thread is locked: no new replies."))
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    body = check_body(body, pii_confirmed)
    quoted = quote_for(author, thread, quote_of.id) if quote_of is not None else None
    post = add_post(thread, author, body, now=utcnow(), quote_of=quoted.id if quoted else None)
    follow(author, thread)
    notices.new_post(thread, post, author)
    return post


def edit_post(*, editor: Member, post: Post, body: str, pii_confirmed: bool = False) -> Post:
    """Change a post's text, keeping the previous text (sealed) in its edit history."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_edit_post(editor, thread, post):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    assert thread is not None
    body = check_body(body, pii_confirmed)
    previous = content.post_source(post)
    if previous == body:
        return post
    revision = PostRevision(
        id=new_id(),
        post_id=post.id,
        thread_id=thread.id,
        editor_id=editor.id,
        number=post.edit_count + 1,
        created_at=utcnow(),
    )
    revision.seal("body", previous, key_id=post.dek_id)
    db.session.add(revision)
    post.seal("body", body)
    post.seal("html", markdown.render(body))
    post.edit_count += 1
    post.edited_at = utcnow()
    db.session.flush()
    record_change(thread.id, post.id)
    return post


def post_history(member: Member, post: Post) -> list[tuple[PostRevision, str]]:
    """The earlier versions of a post, oldest first, opened for a reader of its thread."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_see_post(member, thread, post) or post.is_deleted:
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    revisions = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.number)
    )
    return [(r, content.revision_text(r)) for r in revisions]


def delete_post(*, actor: Member, post: Post) -> None:
    """Delete a post (its author or a coordinator): a marker stays; its text, history and
    attachments are shredded with their data keys, so no copy of them opens again."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_delete_post(actor, thread, post):
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    assert thread is not None
    if post.seq == 1 and thread.post_count > 1 and not actor.is_coordinator:
        raise ThreadError(_("The first post of a thread with replies cannot be deleted."))
    db.session.execute(delete(PostRevision).where(PostRevision.post_id == post.id))
    keys = {post.dek_id}
    for attachment in db.session.scalars(select(Attachment).where(Attachment.post_id == post.id)):
        keys.add(attachment.dek_id)
        attachments.remove_after_commit(attachment.storage_name)
        db.session.delete(attachment)
    envelope.shred_ids(keys)
    post.body_sealed = post.html_sealed = b""
    post.is_deleted = True
    db.session.flush()
    record_change(thread.id, post.id)
    if post.author_id != actor.id:
        audit.record(
            "threads.post_deleted",
            actor=actor,
            target_type="post",
            target_id=post.id,
            thread_id=thread.id,
        )
