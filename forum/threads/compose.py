"""Writing with a file: start a thread or reply with an attachment, and keep a file for a retry.

A file sent with a form that comes back (a personal-data warning, a missing title …) is kept as
the member's pending attachment, so it need not be chosen again; those writes stand although the
page answers 422 (`forum.db.keep_on_refusal`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from forum import db as uow
from forum.extensions import db
from forum.members import services as members_services
from forum.threads import attachments, services
from forum.threads.errors import NotFound
from forum.threads.models import Attachment, Category, Post, Thread

if TYPE_CHECKING:
    from forum.members.models import Member


def pending_file(member: Member, pending_id: str | None, *, drop: bool) -> Attachment | None:
    """The member's file kept from their last try, unless they ticked "Do not attach it"."""
    pending = attachments.pending_for(member, pending_id)
    if pending is not None and drop:
        attachments.discard(pending)
        return None
    return pending


def keep_for_retry(
    member: Member, checked: attachments.Checked | None, pending: Attachment | None
) -> tuple[Attachment | None, str]:
    """Keep the file just sent (replacing the one kept before) for the form's next try; the
    kept attachment and the error that stopped it being kept ('' if none).

    Called only on the way to showing the form again: what it writes (and a dropped file's
    removal) stands although the page answers 422.
    """
    uow.keep_on_refusal()
    if checked is None:
        return pending, ""
    try:
        staged = attachments.stage(uploader=member, checked=checked)
    except attachments.AttachmentError as error:  # nothing was written: the file never landed
        return pending, str(error)
    if pending is not None:
        attachments.discard(pending)
    return staged, ""


def _attach(
    member: Member,
    thread: Thread,
    post: Post,
    checked: attachments.Checked | None,
    pending: Attachment | None,
) -> None:
    if checked is not None:
        attachments.add(uploader=member, thread=thread, post=post, checked=checked)
        if pending is not None:
            attachments.discard(pending)
    elif pending is not None:
        attachments.claim(uploader=member, attachment=pending, thread=thread, post=post)


def start_thread(
    *,
    author: Member,
    category: str | None,
    participants: Sequence[str] = (),
    tags: str = "",
    checked: attachments.Checked | None = None,
    pending: Attachment | None = None,
    **fields: object,
) -> Thread:
    """Start a thread from the new-thread form, with its file on the first post."""
    chosen = db.session.get(Category, category) if category else None
    picked = list(members_services.members_by_id(participants or []).values())
    thread = services.start_thread(
        author=author,
        category=chosen,
        participants=picked,
        tags=[t for t in (tags or "").split(",") if t.strip()],
        **fields,  # type: ignore[arg-type]
    )
    first = db.session.scalars(select(Post).where(Post.thread_id == thread.id, Post.seq == 1)).one()
    _attach(author, thread, first, checked, pending)
    return thread


def reply(
    *,
    author: Member,
    thread: Thread,
    body: str,
    quote_of: str = "",
    pii_confirmed: bool = False,
    checked: attachments.Checked | None = None,
    pending: Attachment | None = None,
) -> Post:
    """Reply from the reply form, with its file; a quote only of a readable post of the thread."""
    quoted = services.quote_for(author, thread, quote_of or "")
    post = services.reply(
        author=author, thread=thread, body=body, quote_of=quoted, pii_confirmed=pii_confirmed
    )
    _attach(author, thread, post, checked, pending)
    return post


def category_or_404(slug: str) -> Category:
    """The category with this slug; NotFound otherwise."""
    found = services.category_by_slug(slug)
    if found is None:
        raise NotFound()
    return found
