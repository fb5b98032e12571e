"""The bulk path: many posts appended to a thread at once (imports and benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.markup import markdown
from forum.threads.models import Post, SearchChange, Thread

if TYPE_CHECKING:
    from forum.members.models import Member


def _context(post_id: str, column: str) -> str:
    return envelope.context(Post.__sealed_table__, post_id, column)


def bulk_add_posts(
    thread: Thread,
    authors: Sequence[Member],
    bodies: Sequence[str],
    *,
    start_at: datetime,
    render_cache: dict[str, str] | None = None,
) -> int:
    """Append many posts to a thread in one batch (sealing and rendering still real).

    `render_cache` lets a caller importing many batches render each distinct text once.
    """
    rows: list[dict[str, object]] = []
    seq = thread.last_seq
    rendered = render_cache if render_cache is not None else {}
    keys = envelope.new_data_keys("post", len(bodies))  # each post its own key, as _add_post
    for index, body in enumerate(bodies):
        html = rendered.get(body)
        if html is None:
            html = rendered[body] = markdown.render(body)
        seq += 1
        post_id = new_id()
        author = authors[index % len(authors)]
        key_id = keys[index]
        rows.append(
            {
                "id": post_id,
                "thread_id": thread.id,
                "seq": seq,
                "dek_id": key_id,
                "author_id": author.id,
                "body_sealed": envelope.seal(key_id, _context(post_id, "body"), body),
                "html_sealed": envelope.seal(key_id, _context(post_id, "html"), html),
                "quote_of_id": None,
                "is_hidden": False,
                "is_deleted": False,
                "edit_count": 0,
                "created_at": start_at + timedelta(seconds=index),
                "edited_at": None,
            }
        )
    if rows:
        db.session.execute(insert(Post), rows)
        thread.last_seq = seq
        thread.post_count += len(rows)
        thread.last_post_at = start_at + timedelta(seconds=len(rows) - 1)
        db.session.flush()
        db.session.add(SearchChange(thread_id=thread.id, post_id=None, created_at=utcnow()))
    return len(rows)
