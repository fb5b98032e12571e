"""Starting threads, replying, editing and deleting: the rules of the threads feature.

Services take the acting member as an argument, ask forum.threads.policy, flush and never
commit. Other features open threads through `start_thread` (alerts: a coordination thread;
calls: a lessons-learned thread from minutes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.markup import markdown, tlp
from forum.members import services as members_services
from forum.security import audit, limits
from forum.threads import attachments, content, notices, pii, policy, reading
from forum.threads.bulk import bulk_add_posts
from forum.threads.categories import (
    DEFAULT_CATEGORIES,
    category_by_slug,
    create_category,
    ensure_default_categories,
    list_categories,
)
from forum.threads.errors import NotFound, PersonalDataWarning, ThreadError
from forum.threads.models import (
    Attachment,
    Category,
    Flag,
    Post,
    PostRevision,
    ReadState,
    SearchChange,
    Thread,
    ThreadParticipant,
    Watch,
)

if TYPE_CHECKING:
    from forum.members.models import Member

MAX_TITLE = 200
MAX_BODY = 60_000
MAX_TAGS = 8
TITLE_TOO_LONG = f"A title may be at most {MAX_TITLE} characters long. Please shorten it."
BODY_TOO_LONG = f"A post may be at most {MAX_BODY:,} characters long. Please shorten it."

__all__ = [
    "DEFAULT_CATEGORIES",
    "NotFound",
    "PersonalDataWarning",
    "ThreadError",
    "bulk_add_posts",
    "category_by_slug",
    "create_category",
    "ensure_default_categories",
    "list_categories",
    "start_thread",
]
TAG_PATTERN = re.compile(r"^[\w][\w.+-]{0,39}$", re.UNICODE)

# --- helpers -----------------------------------------------------------------------------


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Tags as stored: trimmed, lower-case, unique, at most eight; refuses odd characters."""
    result: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#").casefold()
        if not tag:
            continue
        if not TAG_PATTERN.match(tag):
            raise ThreadError(
                f"The tag “{tag[:40]}” may use only letters, digits, '-', '+' and '.', "
                "up to 40 characters.",
                field="tags",
            )
        if tag not in result:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise ThreadError(f"A thread may carry at most {MAX_TAGS} tags.", field="tags")
    return result


def _check_body(body: str, pii_confirmed: bool) -> str:
    body = body.strip()
    if not body:
        raise ThreadError("Please write something.")
    if len(body) > MAX_BODY:
        raise ThreadError(BODY_TOO_LONG)
    if not pii_confirmed:
        findings = pii.scan(body)
        if findings:
            raise PersonalDataWarning(findings)
    return body


def _changed(thread_id: str, post_id: str | None = None) -> None:
    db.session.add(SearchChange(thread_id=thread_id, post_id=post_id, created_at=utcnow()))


def _watch(member: Member, thread: Thread, level: str = "follow") -> None:
    target = f"t:{thread.id}"
    existing = db.session.scalar(
        select(Watch).where(Watch.member_id == member.id, Watch.target == target)
    )
    if existing is None:
        db.session.add(
            Watch(
                id=new_id(),
                member_id=member.id,
                target=target,
                thread_id=thread.id,
                level=level,
                created_at=utcnow(),
            )  # fmt: skip
        )


def get_thread(member: Member, thread_id: str, *, need: str = "read") -> Thread:
    """The thread, if the member may `need` it ("read", "exist", "post"); NotFound otherwise."""
    thread = db.session.get(Thread, thread_id) if len(thread_id) == 32 else None
    check = {
        "read": policy.can_read,
        "exist": policy.can_see_existence,
        "post": policy.can_read,
    }[need]
    if thread is None or not check(member, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if need == "post" and not policy.can_post(member, thread):
        raise ThreadError("This thread is locked: no new replies.")
    return thread


def get_post(member: Member, post_id: str) -> tuple[Thread, Post]:
    """A post and its thread, if the member may read the thread; NotFound otherwise."""
    post = db.session.get(Post, post_id) if len(post_id) == 32 else None
    if post is None:
        raise NotFound("There is nothing here, or it is not yours to see.")
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_read(member, thread) or (
        post.is_hidden and not policy.can_see_post(member, thread, post)
    ):
        raise NotFound("There is nothing here, or it is not yours to see.")
    assert thread is not None
    return thread, post


def editable_post(member: Member, post_id: str) -> tuple[Thread, Post]:
    """A post and its thread, if the member may edit the post; NotFound otherwise."""
    thread, post = get_post(member, post_id)
    if not policy.can_edit_post(member, thread, post):
        raise NotFound("There is nothing here, or it is not yours to see.")
    return thread, post


def quote_for(member: Member, thread: Thread, post_id: str) -> Post | None:
    """The post to quote in a reply to `thread`: only a readable post of that same thread."""
    post = db.session.get(Post, post_id) if len(post_id or "") == 32 else None
    if post is None or post.thread_id != thread.id or post.is_deleted:
        return None
    if not policy.can_read(member, thread) or not policy.can_see_post(member, thread, post):
        return None
    return post


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
        raise ThreadError("Only active members start threads.")
    title = " ".join(title.split())
    if not title:
        raise ThreadError("Please give the thread a title.", field="title")
    if len(title) > MAX_TITLE:
        raise ThreadError(TITLE_TOO_LONG, field="title")
    if not tlp.is_valid(label):
        raise ThreadError("Choose a TLP label.", field="label")
    clean_tags = normalise_tags(tags)
    if not pii_confirmed:
        findings = pii.scan(title + "\n" + body)
        if findings:
            raise PersonalDataWarning(findings)
    body = _check_body(body, True)
    if origin is None:  # threads an alert or a call opens come with them
        limits.check("threads_per_hour", author, author=Thread.author_id,
                     created=Thread.created_at, where=(Thread.origin.is_(None),), error=ThreadError)  # fmt: skip
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
    thread.title_sealed = content.seal(key.id, "thread", thread.id, "title", title)
    thread.tags_sealed = content.seal(key.id, "thread", thread.id, "tags", json.dumps(clean_tags))
    db.session.add(thread)
    db.session.flush()
    if label == tlp.RED:
        for member in participants:
            if member.id != author.id and member.is_active_member:
                db.session.add(ThreadParticipant(thread_id=thread.id, member_id=member.id,
                                                 added_by_id=author.id, added_at=now))  # fmt: skip
    _watch(author, thread)
    _changed(thread.id)
    db.session.flush()
    post = _add_post(thread, author, body, now=now)
    audit.record("threads.thread_started", actor=author, target_type="thread",
                 target_id=thread.id, label=label)  # fmt: skip
    notices.new_thread(thread, post, author)
    return thread


def _add_post(
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
    post = Post(id=new_id(), thread_id=thread.id, seq=seq, dek_id=key.id, author_id=author.id,
                quote_of_id=quote_of, created_at=now)  # fmt: skip
    post.body_sealed = content.seal(key.id, "post", post.id, "body", body)
    post.html_sealed = content.seal(key.id, "post", post.id, "html", markdown.render(body))
    db.session.add(post)
    db.session.flush()
    _changed(thread.id, post.id)
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
            raise ThreadError("This thread is locked: no new replies.")
        raise NotFound("There is nothing here, or it is not yours to see.")
    body = _check_body(body, pii_confirmed)
    quoted = quote_for(author, thread, quote_of.id) if quote_of is not None else None
    post = _add_post(thread, author, body, now=utcnow(),
                     quote_of=quoted.id if quoted else None)  # fmt: skip
    _watch(author, thread)
    notices.new_post(thread, post, author)
    return post


def edit_post(*, editor: Member, post: Post, body: str, pii_confirmed: bool = False) -> Post:
    """Change a post's text, keeping the previous text (sealed) in its edit history."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_edit_post(editor, thread, post):
        raise NotFound("There is nothing here, or it is not yours to see.")
    assert thread is not None
    body = _check_body(body, pii_confirmed)
    previous = content.post_source(post)
    if previous == body:
        return post
    revision = PostRevision(id=new_id(), post_id=post.id, thread_id=thread.id,
                            editor_id=editor.id, number=post.edit_count + 1,
                            created_at=utcnow())  # fmt: skip
    revision.body_sealed = content.seal(post.dek_id, "post_revision", revision.id, "body",
                                        previous)  # fmt: skip
    db.session.add(revision)
    post.body_sealed = content.seal(post.dek_id, "post", post.id, "body", body)
    post.html_sealed = content.seal(post.dek_id, "post", post.id, "html", markdown.render(body))
    post.edit_count += 1
    post.edited_at = utcnow()
    db.session.flush()
    _changed(thread.id, post.id)
    return post


def post_history(member: Member, post: Post) -> list[tuple[PostRevision, str]]:
    """The earlier versions of a post, oldest first, opened for a reader of its thread."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_see_post(member, thread, post) or post.is_deleted:
        raise NotFound("There is nothing here, or it is not yours to see.")
    revisions = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.number)
    )
    return [(r, content.revision_text(r)) for r in revisions]


def delete_post(*, actor: Member, post: Post) -> None:
    """Delete a post (its author or a coordinator): a marker stays; its text, history and
    attachments are shredded with their data keys, so no copy of them opens again."""
    thread = db.session.get(Thread, post.thread_id)
    if not policy.can_delete_post(actor, thread, post):
        raise NotFound("There is nothing here, or it is not yours to see.")
    assert thread is not None
    if post.seq == 1 and thread.post_count > 1 and not actor.is_coordinator:
        raise ThreadError("The first post of a thread with replies cannot be deleted.")
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
    _changed(thread.id, post.id)
    if post.author_id != actor.id:
        audit.record("threads.post_deleted", actor=actor, target_type="post", target_id=post.id,
                     thread_id=thread.id)  # fmt: skip


def delete_thread(*, actor: Member, thread: Thread) -> None:
    """Delete a thread and shred its data key: its text is then unrecoverable, backups included."""
    if not policy.can_delete_thread(actor, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
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
    _changed(thread_id)
    for name in storage:
        attachments.remove_after_commit(name)
    audit.record("threads.thread_deleted", actor=actor, target_type="thread",
                 target_id=thread_id, label=label)  # fmt: skip


# --- labels and participants --------------------------------------------------------------


def change_label(*, actor: Member, thread: Thread, label: str, confirm_lowering: bool) -> None:
    """Change a thread's TLP label; lowering it needs an explicit confirmation and is audited."""
    if not policy.can_change_label(actor, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if not tlp.is_valid(label):
        raise ThreadError("Choose a TLP label.")
    if label == thread.label:
        return
    lowering = tlp.is_lowering(thread.label, label)
    if lowering and not confirm_lowering:
        raise ThreadError(
            f"Lowering the label to {tlp.get(label).display} lets more people read and share "
            "this thread. Tick the box to confirm."
        )
    previous = thread.label
    if previous != tlp.RED and label == tlp.RED:
        # Raising to RED: everyone who has taken part stays a participant, nobody else.
        authors = set(db.session.scalars(select(Post.author_id).where(Post.thread_id == thread.id)))
        for member_id in authors - {thread.author_id}:
            if db.session.get(ThreadParticipant, (thread.id, member_id)) is None:
                db.session.add(ThreadParticipant(thread_id=thread.id, member_id=member_id,
                                                 added_by_id=actor.id, added_at=utcnow()))  # fmt: skip
    thread.label = label
    db.session.flush()
    _changed(thread.id)
    audit.record("threads.label_lowered" if lowering else "threads.label_raised", actor=actor,
                 target_type="thread", target_id=thread.id, from_label=previous,
                 to_label=label)  # fmt: skip


def participants(thread: Thread) -> list[Member]:
    """The named participants of a thread, its starter first."""
    rows = members_services.members_by_id(reading.participant_ids(thread)).values()
    return [thread.author, *[m for m in rows if m.id != thread.author_id]]


def change_participant(*, actor: Member, thread: Thread, member_id: str, action: str) -> None:
    """Add a member to a RED thread, or remove them ("remove"), by id (its starter only)."""
    if not policy.can_manage_participants(actor, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    member = members_services.get_member(member_id)
    if member is None:
        raise NotFound("There is nothing here, or it is not yours to see.")
    if action == "remove":
        remove_participant(actor=actor, thread=thread, member=member)
    else:
        add_participant(actor=actor, thread=thread, member=member)


def add_participant(*, actor: Member, thread: Thread, member: Member) -> None:
    """Name a member on a RED thread (its starter only)."""
    if not policy.can_manage_participants(actor, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if not member.is_active_member:
        raise ThreadError("Only active members can be added.")
    if policy.is_participant(member, thread):
        return
    db.session.add(ThreadParticipant(thread_id=thread.id, member_id=member.id,
                                     added_by_id=actor.id, added_at=utcnow()))  # fmt: skip
    db.session.flush()
    _changed(thread.id)
    audit.record("threads.participant_added", actor=actor, target_type="member",
                 target_id=member.id, thread_id=thread.id)  # fmt: skip
    notices.added_to_thread(thread, member, actor)


def remove_participant(*, actor: Member, thread: Thread, member: Member) -> None:
    """Take a member off a RED thread (its starter only; the starter stays)."""
    if not policy.can_manage_participants(actor, thread):
        raise NotFound("There is nothing here, or it is not yours to see.")
    if member.id == thread.author_id:
        raise ThreadError("The starter of a thread always stays on it.")
    db.session.execute(
        delete(ThreadParticipant).where(
            ThreadParticipant.thread_id == thread.id, ThreadParticipant.member_id == member.id
        )
    )
    db.session.execute(delete(Watch).where(Watch.member_id == member.id,
                                           Watch.thread_id == thread.id))  # fmt: skip
    db.session.flush()
    _changed(thread.id)
    audit.record("threads.participant_removed", actor=actor, target_type="member",
                 target_id=member.id, thread_id=thread.id)  # fmt: skip
