"""Opening what is sealed on a thread: titles, tags, posts, revisions, flag reasons, file names.

Every value is sealed with a data key (the thread's for its title, tags and flag reasons; the
post's own for its body, HTML and history; the attachment's own for its name and content) and
the associated data naming its row and column (`forum.crypto.sealed.SealedColumns` on the models).
These are the names the pages and other features read them by.
"""

from __future__ import annotations

import json

from markupsafe import Markup

from forum.threads.models import Attachment, Flag, Post, PostRevision, Thread


def title(thread: Thread) -> str:
    """The thread's title."""
    return thread.open("title")


def tags(thread: Thread) -> list[str]:
    """The thread's tags."""
    return list(json.loads(thread.open("tags") or "[]"))


def post_html(post: Post) -> Markup:
    """The post's sanitised HTML (sanitised when it was written); empty once it is deleted."""
    if post.is_deleted:
        return Markup("")
    return Markup(post.open("html"))  # noqa: S704 - sanitised by forum.markup.markdown when sealed


def post_source(post: Post) -> str:
    """The post's Markdown source; empty once it is deleted (its key is shredded)."""
    if post.is_deleted:
        return ""
    return post.open("body")


def revision_text(revision: PostRevision) -> str:
    """The Markdown of an earlier version of a post."""
    return revision.open("body")


def flag_reason(flag: Flag) -> str:
    """Why a member flagged a post."""
    return flag.open("reason")


def attachment_name(attachment: Attachment) -> str:
    """The file name the uploader gave."""
    return attachment.open("filename")
