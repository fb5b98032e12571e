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

Results and work. One result per thread, ranked by its most recent matching post (or title),
with an excerpt from the thread's best matching post (most query words, then newest), as plain
text: Markdown marks removed, HTML escaped, matching words in <mark>. A word of three letters or
more also finds the words it begins ("liais" finds "liaison"). The work of one query is bounded
(search_walk.py: postings read and candidates checked, at most WORK_LIMIT units; at most
MAX_TERMS terms, MAX_EXPANSIONS words per prefix, COUNT_LIMIT threads counted). Two-word phrases
are answered from the pair postings; longer ones are checked, word for word, in at most
VERIFY_LIMIT opened posts. An excerpt renders only the part of a post around its first match. A
query that reaches a bound says its count is a lower bound.

Locks. Writers (the cold start, catching up) take the index's lock; a search takes it only to
catch up and to copy a snapshot (the docs list and its length, the postings, threads and
vocabulary maps), then walks, opens excerpts and checks access without it. Writers never change
what a snapshot holds in a way a walk could trip on: docs and postings are only appended to,
and the threads map and the vocabulary are replaced, never changed in place (copy-on-write).

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
some tens of MB. Warm queries take tens of milliseconds. bench/threads_search_load.py measures
a bystander's search while three members run heavy ones (page 50, four common words or a
four-word phrase, over 3,000-word posts).
"""

from __future__ import annotations

import logging
import threading
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask, current_app
from sqlalchemy import func, or_, select

from forum.crypto import envelope
from forum.extensions import db
from forum.threads import content, policy
from forum.threads import search_walk as walk
from forum.threads.models import Post, SearchChange, Thread
from forum.threads.search_page import Result, Results, chunks, page, verify
from forum.threads.search_store import (
    DENSE_RATIO,
    DocTable,
    Postings,
    densify,
    give_back_memory,
    micros,
)
from forum.threads.search_text import (
    Query,
    excerpt,
    normalise,
    tokens,
)

if TYPE_CHECKING:
    from forum.members.models import Member

__all__ = ["Query", "Result", "Results", "SearchIndex", "excerpt", "normalise", "search", "tokens"]

log = logging.getLogger(__name__)

HOLE_SECONDS = 300
COUNT_LIMIT = 1000
EXTENSION = "threads.search_index"
_create_lock = threading.Lock()


@dataclass(slots=True)
class _ThreadMeta:
    label: str
    category_id: str | None
    tags: list[str]
    docs: array[int] = field(default_factory=lambda: array("I"))


@dataclass(slots=True)
class _Snapshot:
    docs: DocTable
    size: int
    postings: dict[str, Postings]
    threads: dict[str, _ThreadMeta]
    vocabulary: list[str]


class SearchIndex:
    """The in-memory inverted index of one process."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.work_limit = walk.WORK_LIMIT
        self.dense_ratio: int | None = DENSE_RATIO  # None: every term keeps its array
        self.ready = threading.Event()  # set once the first build is done
        self._reset()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait for the first build (started by `warm_in_background` or the first search)."""
        return self.ready.wait(timeout)

    def size(self) -> int:
        """Documents indexed (posts and thread titles, live or not)."""
        return len(self.docs)

    def term_count(self) -> int:
        """Distinct terms (words and adjacent pairs)."""
        return len(self.postings)

    def _reset(self) -> None:
        """Fresh structures (a walk holding the old ones keeps reading them undisturbed)."""
        self.built = False
        self.last_change = 0
        self.holes: dict[int, float] = {}
        self.docs = DocTable()
        self.postings: dict[str, Postings] = {}
        # Post id -> doc number; made after the cold start, not post by post during it.
        self._by_post: dict[str, int] | None = None
        self.threads: dict[str, _ThreadMeta] = {}
        self.vocabulary: list[str] = []
        self._new_words: list[str] = []
        self.build_seconds = 0.0

    # --- building and keeping current (under self.lock) ------------------------------------

    def _add(
        self, thread_id: str, post_id: str | None, author_id: str, created_at: datetime, text: str
    ) -> int:
        number = len(self.docs)
        words = tokens(text)
        pairs = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}
        for word in set(words) | pairs:
            postings = self.postings.get(word)
            if postings is None:
                postings = self.postings[word] = array("I")
                if " " not in word:
                    self._new_words.append(word)
            postings.append(number)
        # After its postings: a walk's snapshot size never runs ahead.
        self.docs.append(thread_id, post_id, author_id, created_at)
        meta = self.threads.get(thread_id)
        if meta is not None:
            meta.docs.append(number)
        if post_id is not None and self._by_post is not None:
            self._by_post[post_id] = number
        return number

    @property
    def by_post(self) -> dict[str, int]:
        if self._by_post is None:
            self._by_post = self.docs.post_numbers()
        return self._by_post

    def _kill_post(self, post_id: str) -> None:
        if not self.built:
            return  # the cold start adds each post once
        number = self.by_post.pop(post_id, None)
        if number is not None:
            self.docs.kill(number)

    def _index_thread(self, thread: Thread) -> None:
        old = self.threads.pop(thread.id, None)
        if old is not None:
            for number in old.docs:
                if self.docs.is_title(number):
                    self.docs.kill(number)
        meta = _ThreadMeta(
            thread.label,
            thread.category_id,
            content.tags(thread),
            array("I", [n for n in (old.docs if old else ()) if self.docs.is_alive(n)]),
        )
        self.threads[thread.id] = meta
        text = content.title(thread) + " " + " ".join(meta.tags)
        self._add(thread.id, None, thread.author_id, thread.created_at, text)

    def _drop_thread(self, thread_id: str) -> None:
        meta = self.threads.pop(thread_id, None)
        if meta is None:
            return
        for number in meta.docs:
            self.docs.kill(number)
            post_id = self.docs.post_id(number)
            if post_id is not None:
                self.by_post.pop(post_id, None)

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
            self._add(thread_id, post_id, author_id, created_at, body)

    def _publish_vocabulary(self) -> None:
        if self._new_words:
            self.vocabulary = sorted([*self.vocabulary, *self._new_words])  # a new list
            self._new_words = []

    def build(self) -> None:
        """Index every thread and post from the database (the cold start)."""
        started = time.perf_counter()
        self._reset()
        self.last_change = db.session.scalar(select(func.max(SearchChange.seq))) or 0
        for thread in db.session.scalars(select(Thread).order_by(Thread.created_at)):
            self._index_thread(thread)
        self._index_posts(Post.id.is_not(None))
        self._publish_vocabulary()
        densify(self.postings, len(self.docs), self.dense_ratio)
        self.built = True
        self.build_seconds = time.perf_counter() - started
        give_back_memory()
        self.ready.set()

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
            self.threads = dict(self.threads)  # copy-on-write: snapshots keep the old map
            self._apply(
                {r.thread_id for r in rows if r.post_id is None},
                {r.post_id for r in rows if r.post_id is not None},
            )
            self._publish_vocabulary()

    def _apply(self, thread_ids: set[str], post_ids: set[str]) -> None:
        for thread_id in thread_ids:
            thread = db.session.get(Thread, thread_id)
            if thread is None:
                self._drop_thread(thread_id)
                continue
            self._index_thread(thread)
            indexed = {self.docs.post_id(n) for n in self.threads[thread_id].docs}
            present = set(
                db.session.scalars(
                    select(Post.id).where(
                        Post.thread_id == thread_id,
                        Post.is_deleted.is_(False),
                        Post.is_hidden.is_(False),
                    )
                )
            )
            for gone in indexed - present - {None}:
                self._kill_post(gone)  # type: ignore[arg-type]
            post_ids |= present - indexed
        if post_ids:
            for post_id in post_ids:
                self._kill_post(post_id)
            for chunk in chunks(sorted(post_ids), 500):
                self._index_posts(Post.id.in_(chunk))

    # --- querying (no lock held) -------------------------------------------------------------

    def snapshot(self) -> _Snapshot:
        """What a search reads, copied under the lock in a moment."""
        with self.lock:
            return _Snapshot(
                self.docs, len(self.docs), self.postings, self.threads, self.vocabulary
            )

    def search(self, member: Member, query: Query, *, offset: int = 0, limit: int = 20) -> Results:
        """Threads among those the member may read, by most recent match, one result each."""
        self.catch_up()
        snap = self.snapshot()
        readable = policy.readable_thread_ids(member)
        allowed = {
            thread_id
            for thread_id, meta in snap.threads.items()
            if thread_id in readable
            and (query.label is None or meta.label == query.label)
            and (query.category_id is None or meta.category_id == query.category_id)
            and (query.tag is None or query.tag.casefold() in meta.tags)
        }
        phrases = [tokens(p) for p in query.phrases if tokens(p)]
        loose = [w for part in query.loose for w in tokens(part)]
        terms = [walk.expand(w, snap.postings, snap.vocabulary, prefix=True) for w in loose]
        for phrase in phrases:  # a phrase's adjacent pairs are indexed: exact for two words
            pairs = [f"{a} {b}" for a, b in zip(phrase, phrase[1:], strict=False)] or phrase
            terms += [walk.expand(p, snap.postings, snap.vocabulary, prefix=False) for p in pairs]
        dropped = max(len(terms) - walk.MAX_TERMS, 0)
        terms = terms[: walk.MAX_TERMS]

        docs = snap.docs
        since = micros(query.date_from) if query.date_from is not None else None
        until = micros(query.date_to) if query.date_to is not None else None

        def accept(number: int) -> bool:
            return (
                docs.is_alive(number)
                and docs.thread_id(number) in allowed
                and (query.author_id is None or docs.author_id(number) == query.author_id)
                and (since is None or docs.stamps[number] >= since)
                and (until is None or docs.stamps[number] < until)
            )

        long_phrases = [p for p in phrases if len(p) > 2]
        wanted = offset + limit + 1 if long_phrases else COUNT_LIMIT
        budget = walk.Budget(self.work_limit)
        if terms:
            found = walk.collect(
                terms, snap.docs, snap.size, accept, want_threads=wanted, budget=budget
            )
        else:
            titles = [
                n
                for t in allowed
                for n in snap.threads[t].docs
                if n < snap.size and snap.docs.is_title(n)
            ]
            found = walk.collect_titles(
                titles, snap.docs, accept, want_threads=wanted, budget=budget
            )
        hits = found.threads
        capped = not found.complete
        if long_phrases:
            hits, checked_all = verify(snap, hits, long_phrases)
            capped = capped or not checked_all
        results = page(member, snap, hits, offset, limit, query.words)
        results.is_lower_bound = capped or dropped > 0
        results.work, results.dropped_terms = found.work, dropped
        return results


def index() -> SearchIndex:
    """This process's search index for the running app (created empty; built at first search)."""
    existing = current_app.extensions.get(EXTENSION)
    if existing is None:
        with _create_lock:
            existing = current_app.extensions.get(EXTENSION)
            if existing is None:
                existing = current_app.extensions[EXTENSION] = SearchIndex()
    return existing  # type: ignore[no-any-return]


def warm_in_background(app: Flask) -> threading.Thread:
    """Build this process's index on a thread of its own as serving starts, so the first
    search after a restart finds it ready instead of waiting for the cold start."""

    def build() -> None:
        with app.app_context():
            try:
                index().catch_up()
            except Exception:  # the first search will try again, and say what went wrong
                log.exception("the search index could not be built in the background")
            finally:
                db.session.remove()

    thread = threading.Thread(target=build, name="exchange-search-warm", daemon=True)
    thread.start()
    return thread


def search(member: Member, query: Query, *, offset: int = 0, limit: int = 20) -> Results:
    """Search the threads the member may read."""
    return index().search(member, query, offset=offset, limit=limit)
