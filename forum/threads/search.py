"""Search over threads a member may read, with nothing at rest that reveals a word.

Design. Each web process keeps an inverted index in memory (each word, and each pair of
adjacent words -> the posts and titles that contain it), built from the decrypted titles, tags
and posts the first time someone searches after the process starts, and kept current after. Nothing of the index is ever written to
the database, to disk or to a log: when the process stops, the index is gone.

Keeping several processes current. Every write that changes what search should find (a new,
edited, hidden or deleted post; a new, relabelled, moved or deleted thread; a change of
participants) adds a row to `thread_search_changes` in the same transaction: a growing number
and the ids of the thread and post — no text. Before each search a process reads the rows above
the last number it applied (and any numbers it saw skipped, which an uncommitted transaction
may still fill, for five minutes), re-reads those posts and threads, and updates its index. So a
post written through one gunicorn process is found by a search on any other at once. If the
rows a process needed were pruned (a process idle for longer than a week), it rebuilds.

Ranking and counts. Hits are listed most recently written (or edited) first; counting stops
at 1,000 ("more than 1,000 results"), so a common word never makes a page walk every match.
Two-word phrases are answered from the pair postings; longer phrases are checked against the
decrypted text of at most 1,000 candidates.

Access. The index is shared by all members of a process; every query is filtered to the
threads `policy.readable_clause(member)` allows, and every thread of a result page is checked
again with `policy.can_read`. Excerpts are decrypted at query time, only for the page shown.

What someone who steals the database learns from search: nothing beyond the rest of the
database. There is no search table with words, hashes of words or word counts; the change table
holds only ids and times (which posts were written or edited when, which the posts table shows
anyway). Tags are sealed with the thread's title. Someone who steals a *running* server's
memory can read the index (and much more): memory is not at rest.

What the rest of the threads tables reveal without the keyring (for the README): ids; who
started which thread and wrote which post, when, and how long it is (ciphertext length); each
thread's TLP label, category, lock/pin state and post count; the named participants of RED
threads; who follows or muted what; how far each member has read each thread; flags (who, when,
which post, not why); attachment sizes and types (not names or contents); and the audit log
(moderation actions, label changes, who read new posts of a RED thread — ids and counts). No
title, tag, post, edit, flag reason, file name or file content, and no word of any of them.

Costs. The cold start decrypts and tokenises every post once (measured in
bench/threads_search.py: about 10-40 s for 100,000 posts on the shared test machine, where the
first search after a restart waits for it); the index of 100,000 posts of seventy words takes
some tens of MB. Warm queries take tens of milliseconds.
"""

from __future__ import annotations

import threading
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from markupsafe import Markup
from sqlalchemy import func, or_, select

from forum.crypto import envelope
from forum.extensions import db
from forum.members.models import Member
from forum.threads import content, policy
from forum.threads.models import Post, SearchChange, Thread
from forum.threads.search_text import (
    Query,
    excerpt,
    has_phrase,
    normalise,
    tokens,
)

__all__ = ["Query", "Result", "Results", "SearchIndex", "excerpt", "normalise", "search", "tokens"]

HOLE_SECONDS = 300
VERIFY_LIMIT = 1000
COUNT_LIMIT = 1000
EXTENSION = "threads.search_index"
_create_lock = threading.Lock()


@dataclass(slots=True)
class _Doc:
    thread_id: str
    post_id: str | None
    author_id: str
    created_at: datetime
    alive: bool = True


@dataclass(slots=True)
class _ThreadMeta:
    label: str
    category_id: str | None
    tags: list[str]
    docs: list[int] = field(default_factory=list)


@dataclass
class Result:
    """One hit: a thread (and a post in it), with a highlighted excerpt."""

    thread: Thread
    title: str
    post_id: str | None
    seq: int | None
    author_id: str
    created_at: datetime
    excerpt: Markup


@dataclass
class Results:
    """A page of hits, how many there are in all, and whether that count is a lower bound."""

    items: list[Result]
    total: int
    is_lower_bound: bool
    has_more: bool


class SearchIndex:
    """The in-memory inverted index of one process."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.built = False
        self.last_change = 0
        self.holes: dict[int, float] = {}
        self.docs: list[_Doc] = []
        self.postings: dict[str, array[int]] = {}
        self.by_post: dict[str, int] = {}
        self.threads: dict[str, _ThreadMeta] = {}
        self.build_seconds = 0.0

    # --- building and keeping current -------------------------------------------------------

    def _add(self, doc: _Doc, text: str) -> int:
        number = len(self.docs)
        self.docs.append(doc)
        words = tokens(text)
        pairs = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
        for word in set(words) | pairs:
            postings = self.postings.get(word)
            if postings is None:
                postings = self.postings[word] = array("I")
            postings.append(number)
        meta = self.threads.get(doc.thread_id)
        if meta is not None:
            meta.docs.append(number)
        if doc.post_id is not None:
            self.by_post[doc.post_id] = number
        return number

    def _kill_post(self, post_id: str) -> None:
        number = self.by_post.pop(post_id, None)
        if number is not None:
            self.docs[number].alive = False

    def _index_thread(self, thread: Thread) -> None:
        old = self.threads.pop(thread.id, None)
        title_doc = None
        if old is not None:
            for number in old.docs:
                if self.docs[number].post_id is None:
                    self.docs[number].alive = False
        meta = _ThreadMeta(thread.label, thread.category_id, content.tags(thread),
                           [n for n in (old.docs if old else []) if self.docs[n].alive])  # fmt: skip
        self.threads[thread.id] = meta
        title_doc = _Doc(thread.id, None, thread.author_id, thread.created_at)
        self._add(title_doc, content.title(thread) + " " + " ".join(meta.tags))

    def _drop_thread(self, thread_id: str) -> None:
        meta = self.threads.pop(thread_id, None)
        if meta is None:
            return
        for number in meta.docs:
            doc = self.docs[number]
            doc.alive = False
            if doc.post_id is not None:
                self.by_post.pop(doc.post_id, None)

    def _index_posts(self, query: object) -> None:
        columns = (Post.id, Post.thread_id, Post.author_id, Post.created_at, Post.body_sealed)
        statement = (
            select(*columns)
            .where(query, Post.is_deleted.is_(False), Post.is_hidden.is_(False))  # type: ignore[arg-type]
            .order_by(Post.created_at)
            .execution_options(yield_per=2000)
        )
        for post_id, thread_id, author_id, created_at, sealed in db.session.execute(statement):
            if thread_id not in self.threads:
                continue
            self._kill_post(post_id)
            body = envelope.open_text(sealed, envelope.context("post", post_id, "body"))
            self._add(_Doc(thread_id, post_id, author_id, created_at), body)

    def build(self) -> None:
        """Index every thread and post from the database (the cold start)."""
        started = time.perf_counter()
        self.__init__()  # type: ignore[misc]
        self.last_change = db.session.scalar(select(func.max(SearchChange.seq))) or 0
        for thread in db.session.scalars(select(Thread).order_by(Thread.created_at)):
            self._index_thread(thread)
        self._index_posts(Post.id.is_not(None))
        self.built = True
        self.build_seconds = time.perf_counter() - started

    def catch_up(self) -> None:
        """Apply the changes other processes (and this one) committed since the last search."""
        with self.lock:
            if not self.built:
                self.build()
                return
            now = time.monotonic()
            self.holes = {s: t for s, t in self.holes.items() if now - t < HOLE_SECONDS}
            condition = SearchChange.seq > self.last_change
            if self.holes:
                condition = or_(condition, SearchChange.seq.in_(list(self.holes)))
            rows = db.session.execute(
                select(SearchChange.seq, SearchChange.thread_id, SearchChange.post_id)
                .where(condition)
                .order_by(SearchChange.seq)
            ).all()
            if not rows:
                return
            first_new = min((r.seq for r in rows if r.seq > self.last_change), default=None)
            oldest = db.session.scalar(select(func.min(SearchChange.seq))) or 0
            if first_new is not None and oldest > self.last_change + 1 and self.last_change:
                self.build()  # the changes we missed were pruned: start again
                return
            expected = self.last_change + 1
            for row in rows:
                self.holes.pop(row.seq, None)
                for missing in range(expected, row.seq):
                    self.holes.setdefault(missing, now)
                expected = max(expected, row.seq + 1)
            self.last_change = max(self.last_change, rows[-1].seq)
            self._apply({r.thread_id for r in rows if r.post_id is None},
                        {r.post_id for r in rows if r.post_id is not None})  # fmt: skip

    def _apply(self, thread_ids: set[str], post_ids: set[str]) -> None:
        for thread_id in thread_ids:
            thread = db.session.get(Thread, thread_id)
            if thread is None:
                self._drop_thread(thread_id)
                continue
            self._index_thread(thread)
            indexed = {self.docs[n].post_id for n in self.threads[thread_id].docs}
            present = set(
                db.session.scalars(
                    select(Post.id).where(Post.thread_id == thread_id,
                                          Post.is_deleted.is_(False), Post.is_hidden.is_(False))
                )
            )  # fmt: skip
            for gone in indexed - present - {None}:
                self._kill_post(gone)  # type: ignore[arg-type]
            post_ids |= present - indexed
        if post_ids:
            for post_id in post_ids:
                self._kill_post(post_id)
            for chunk in _chunks(sorted(post_ids), 500):
                self._index_posts(Post.id.in_(chunk))

    # --- querying ---------------------------------------------------------------------------

    def _candidates(self, terms: list[str]) -> list[int] | None:
        """Doc numbers holding every term, newest first (None: no term given)."""
        lists = []
        for term in set(terms):
            postings = self.postings.get(term)
            if postings is None:
                return []
            lists.append(postings)
        if not lists:
            return None
        lists.sort(key=len)
        if len(lists) == 1:
            return list(reversed(lists[0]))
        common = set(lists[0])
        for other in lists[1:]:
            common.intersection_update(other)
            if not common:
                return []
        return sorted(common, reverse=True)

    def search(self, member: Member, query: Query, *, offset: int = 0, limit: int = 20) -> Results:
        """Hits among the threads the member may read, most recently written first.

        Counting stops at COUNT_LIMIT hits ("more than ..."): a page never walks every match.
        """
        self.catch_up()
        with self.lock:
            readable = policy.readable_thread_ids(member)
            allowed = {
                thread_id
                for thread_id, meta in self.threads.items()
                if thread_id in readable
                and (query.label is None or meta.label == query.label)
                and (query.category_id is None or meta.category_id == query.category_id)
                and (query.tag is None or query.tag.casefold() in meta.tags)
            }
            phrases = [tokens(p) for p in query.phrases if tokens(p)]
            terms = [w for part in query.loose for w in tokens(part)]
            for phrase in phrases:  # a phrase's adjacent pairs are indexed: exact for two words
                terms += [f"{a} {b}" for a, b in zip(phrase, phrase[1:], strict=False)] or phrase
            numbers = self._candidates(terms)
            if numbers is None:
                numbers = sorted((n for t in allowed for n in self.threads[t].docs
                                  if self.docs[n].post_id is None), reverse=True)  # fmt: skip
            docs = self.docs
            long_phrases = [p for p in phrases if len(p) > 2]
            wanted = offset + limit + 1
            hits: list[int] = []
            verified = 0
            for n in numbers:
                doc = docs[n]
                if not (
                    doc.alive
                    and doc.thread_id in allowed
                    and (query.author_id is None or doc.author_id == query.author_id)
                    and (query.date_from is None or doc.created_at >= query.date_from)
                    and (query.date_to is None or doc.created_at < query.date_to)
                ):
                    continue
                hits.append(n)
                if long_phrases and len(hits) >= wanted:
                    break
                if len(hits) >= COUNT_LIMIT:
                    break
            capped = len(hits) >= COUNT_LIMIT
            if long_phrases:
                texts = self._texts(hits[:VERIFY_LIMIT])
                verified = len(texts)
                hits = [n for n in hits[:VERIFY_LIMIT]
                        if all(has_phrase(tokens(texts.get(n, "")), p) for p in long_phrases)]  # fmt: skip
                capped = capped or verified >= VERIFY_LIMIT or len(hits) >= wanted
            return self._page(member, hits, offset, limit, len(hits), capped, query.words)

    def _texts(self, numbers: list[int]) -> dict[int, str]:
        """The opened text of the given docs, fetched in batches."""
        found: dict[int, str] = {}
        posts = {self.docs[n].post_id: n for n in numbers if self.docs[n].post_id is not None}
        for chunk in _chunks(sorted(posts), 200):  # type: ignore[arg-type]
            rows = db.session.execute(select(Post.id, Post.body_sealed).where(Post.id.in_(chunk)))
            for post_id, sealed in rows:
                found[posts[post_id]] = envelope.open_text(
                    sealed, envelope.context("post", post_id, "body")
                )
        for n in numbers:
            doc = self.docs[n]
            if doc.post_id is None:
                thread = db.session.get(Thread, doc.thread_id)
                if thread is not None:
                    found[n] = content.title(thread) + " " + " ".join(content.tags(thread))
        return found

    def _page(self, member: Member, numbers: list[int], offset: int, limit: int, total: int,
              lower_bound: bool, words: list[str]) -> Results:  # fmt: skip
        items: list[Result] = []
        shown = numbers[offset : offset + limit]
        texts = self._texts(shown)
        seqs = dict(
            db.session.execute(
                select(Post.id, Post.seq).where(
                    Post.id.in_([self.docs[n].post_id for n in shown if self.docs[n].post_id])
                )
            ).all()
        )
        for number in shown:
            doc = self.docs[number]
            thread = db.session.get(Thread, doc.thread_id)
            if not policy.can_read(member, thread):
                continue  # defence in depth: the index may lag a participant's removal
            assert thread is not None
            items.append(
                Result(
                    thread=thread,
                    title=content.title(thread),
                    post_id=doc.post_id,
                    seq=seqs.get(doc.post_id) if doc.post_id else None,
                    author_id=doc.author_id,
                    created_at=doc.created_at,
                    excerpt=excerpt(texts.get(number, ""), words),
                )  # fmt: skip
            )
        return Results(items, total, lower_bound, len(numbers) > offset + limit)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def index() -> SearchIndex:
    """This process's search index for the running app (created empty; built at first search)."""
    existing = current_app.extensions.get(EXTENSION)
    if existing is None:
        with _create_lock:
            existing = current_app.extensions.get(EXTENSION)
            if existing is None:
                existing = current_app.extensions[EXTENSION] = SearchIndex()
    return existing  # type: ignore[no-any-return]


def search(member: Member, query: Query, *, offset: int = 0, limit: int = 20) -> Results:
    """Search the threads the member may read."""
    return index().search(member, query, offset=offset, limit=limit)
