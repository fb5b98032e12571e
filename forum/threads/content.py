"""Opening what is sealed on a thread: titles, tags, posts, revisions, flag reasons, file names.

Every value is sealed with a data key (the thread's for its title, tags and flag reasons; the
post's own for its body, HTML and history; the attachment's own for its name and content) and a
context naming its row and column.
Benchmarks may hand in pre-opened post HTML (`app.extensions["threads.bench_preopened"]`, set only
by bench/threads_page.py) to measure what sealing costs; nothing else ever sets it.
"""

from __future__ import annotations

import json

from flask import current_app
from markupsafe import Markup

from forum.crypto import envelope
from forum.threads.models import Attachment, Flag, Post, PostRevision, Thread

BENCH_PREOPENED = "threads.bench_preopened"


def seal(key_id: str, table: str, row_id: str, column: str, value: str | bytes) -> bytes:
    """Seal a value of one row and column under a thread's data key."""
    return envelope.seal(key_id, envelope.context(table, row_id, column), value)


def title(thread: Thread) -> str:
    """The thread's title."""
    return envelope.open_text(thread.title_sealed, envelope.context("thread", thread.id, "title"))


def tags(thread: Thread) -> list[str]:
    """The thread's tags."""
    raw = envelope.open_text(thread.tags_sealed, envelope.context("thread", thread.id, "tags"))
    return list(json.loads(raw))


def post_html(post: Post) -> Markup:
    """The post's sanitised HTML (sanitised when it was written); empty once it is deleted."""
    if post.is_deleted:
        return Markup("")
    preopened = current_app.extensions.get(BENCH_PREOPENED)
    if preopened is not None and post.id in preopened:
        return Markup(preopened[post.id])  # noqa: S704 - bench-only, sanitised HTML
    html = envelope.open_text(post.html_sealed, envelope.context("post", post.id, "html"))
    return Markup(html)  # noqa: S704 - sanitised by forum.markup.markdown before it was sealed


def post_source(post: Post) -> str:
    """The post's Markdown source; empty once it is deleted (its key is shredded)."""
    if post.is_deleted:
        return ""
    return envelope.open_text(post.body_sealed, envelope.context("post", post.id, "body"))


def revision_text(revision: PostRevision) -> str:
    """The Markdown of an earlier version of a post."""
    return envelope.open_text(
        revision.body_sealed, envelope.context("post_revision", revision.id, "body")
    )


def flag_reason(flag: Flag) -> str:
    """Why a member flagged a post."""
    return envelope.open_text(flag.reason_sealed, envelope.context("flag", flag.id, "reason"))


def attachment_name(attachment: Attachment) -> str:
    """The file name the uploader gave."""
    return envelope.open_text(
        attachment.filename_sealed, envelope.context("attachment", attachment.id, "filename")
    )
