"""A page of search results: each thread's best matching post as a short plain-text excerpt,
and the word-for-word check of long phrases (search.py walks the index; this opens posts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from markupsafe import Markup
from sqlalchemy import select

from forum.crypto import envelope
from forum.extensions import db
from forum.threads import content, policy
from forum.threads.models import Post, Thread
from forum.threads.search_text import excerpt, excerpt_text, holds_phrase, matcher, score
from forum.threads.search_walk import MIN_PREFIX

if TYPE_CHECKING:
    from forum.members.models import Member

VERIFY_LIMIT = 200


class Snapshot(Protocol):
    """What a page reads of the index's snapshot."""

    docs: Any


@dataclass
class Result:
    """One thread that matched, with the excerpt of its best matching post."""

    thread: Thread
    title: str
    post_id: str | None
    seq: int | None
    author_id: str
    created_at: datetime
    excerpt: Markup


@dataclass
class Results:
    """A page of threads, how many matched in all, and whether that count is a lower bound."""

    items: list[Result]
    total: int
    is_lower_bound: bool
    has_more: bool
    work: int = 0
    dropped_terms: int = 0


def verify(
    snap: Snapshot, hits: dict[str, list[int]], phrases: list[list[str]]
) -> tuple[dict[str, list[int]], bool]:
    """Keep the docs that hold every long phrase word for word (at most VERIFY_LIMIT opened)."""
    numbers = [n for docs in hits.values() for n in docs][:VERIFY_LIMIT]
    texts, _seqs = _texts(snap, numbers)  # as indexed: the Markdown source
    kept: dict[str, list[int]] = {}
    for thread_id, docs in hits.items():
        good = [n for n in docs if n in texts and all(holds_phrase(texts[n], p) for p in phrases)]
        if good:
            kept[thread_id] = good
    return kept, len(numbers) == sum(len(d) for d in hits.values())


def page(
    member: Member,
    snap: Snapshot,
    hits: dict[str, list[int]],
    offset: int,
    limit: int,
    words: list[str],
) -> Results:
    """The results shown for one page of the threads found, each checked with can_read."""
    thread_ids = list(hits)
    shown = thread_ids[offset : offset + limit]
    if shown:  # one query for the page's threads: the lookups below hit the identity map
        db.session.scalars(select(Thread).where(Thread.id.in_(shown))).all()
    sources, seqs = _texts(snap, [n for t in shown for n in hits[t]])
    matches = matcher(words, MIN_PREFIX)
    items: list[Result] = []
    for thread_id in shown:
        thread = db.session.get(Thread, thread_id)
        if not policy.can_read(member, thread):
            continue  # defence in depth: the index may lag a participant's removal
        assert thread is not None
        best = max(
            hits[thread_id],
            key=lambda n: (snap.docs[n].post_id is not None, score(sources.get(n, ""), words), n),
        )
        doc = snap.docs[best]
        text = sources.get(best, "")
        if doc.post_id is not None:
            text = excerpt_text(text, words)
        items.append(
            Result(
                thread=thread,
                title=content.title(thread),
                post_id=doc.post_id,
                seq=seqs.get(best),
                author_id=doc.author_id,
                created_at=doc.created_at,
                excerpt=excerpt(text, matches),
            )
        )
    return Results(items, len(thread_ids), False, len(thread_ids) > offset + limit)


def _texts(snap: Snapshot, numbers: list[int]) -> tuple[dict[int, str], dict[int, int]]:
    """The text of the given docs (posts' Markdown source; titles with their tags) and the
    posts' numbers in their threads, fetched in batches."""
    found: dict[int, str] = {}
    seqs: dict[int, int] = {}
    posts = {snap.docs[n].post_id: n for n in numbers if snap.docs[n].post_id is not None}
    for chunk in chunks(sorted(posts), 200):  # type: ignore[arg-type]
        rows = db.session.execute(
            select(Post.id, Post.seq, Post.body_sealed).where(Post.id.in_(chunk))
        )
        for post_id, seq, sealed in rows:
            found[posts[post_id]] = envelope.open_text(
                sealed, envelope.context("post", post_id, "body")
            )
            seqs[posts[post_id]] = seq
    for n in numbers:
        doc = snap.docs[n]
        if doc.post_id is None:
            thread = db.session.get(Thread, doc.thread_id)
            if thread is not None:
                found[n] = content.title(thread) + " " + " ".join(content.tags(thread))
    return found, seqs


def chunks(items: list[str], size: int) -> list[list[str]]:
    """The items in lists of at most `size` (for IN clauses)."""
    return [items[i : i + size] for i in range(0, len(items), size)]
