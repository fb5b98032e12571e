"""Rendered post lists, kept in this web process's memory for the member who saw them.

A thread page spends most of its time turning twenty posts into HTML (their chrome, times,
links and forms). The list is a pure function of what the page already loaded — the posts'
sealed HTML, their flags and edit counts, their files, the authors' names, the member's rights
on each post, where their unread divider goes, the page number, the reader's language and time
zone, and the session's CSRF token inside its forms — so the key is a digest of exactly those,
and nothing needs to be invalidated: an edit, a hidden post, a renamed author or a changed right
is a different key. The CSRF token in the key keeps one session's list (its forms' tokens) from
ever being shown to another session.

Like the search index, it is memory only: never on disk, never in a shared cache, gone with the
process; bounded in bytes, and no entry outlives MAX_AGE_SECONDS (two minutes) whether or not
it is read again, so no opened text lingers; a thread's lists are dropped at once when a change
to it commits in this process (a deleted post's text does not wait for the sweep).
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
import weakref
from collections import OrderedDict
from typing import Any

from flask import current_app, render_template, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from forum import db as uow
from forum.i18n import current_language

EXTENSION_KEY = "exchange.rendered_posts"
MAX_BYTES = 16 * 1024 * 1024
MAX_AGE_SECONDS = 120
SWEEP_SECONDS = 30
ENTRY_OVERHEAD = 256  # the key, the tuple and the dict's slot, roughly
TEMPLATE = "threads/_posts.html"


class RenderedPosts:
    """Rendered post lists, oldest first, bounded in bytes (as Python holds them) and in age,
    safe across threads. An entry is dropped when it is MAX_AGE_SECONDS old whether or not it
    is asked for again (a sweeper looks every SWEEP_SECONDS), and at once when its thread
    changes in this process (`forget_thread`)."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.size = 0
        self._entries: OrderedDict[bytes, tuple[float, str, Markup]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def cost(html: Markup) -> int:
        """What an entry takes in memory: a text with one emoji is 4 bytes a character."""
        return sys.getsizeof(html) + ENTRY_OVERHEAD

    def get(self, key: bytes) -> Markup | None:
        with self._lock:
            self._sweep(time.monotonic())
            found = self._entries.get(key)
            return found[2] if found is not None else None

    def put(self, key: bytes, thread_id: str, html: Markup) -> None:
        cost = self.cost(html)
        if cost > self.max_bytes:
            return
        with self._lock:
            now = time.monotonic()
            self._sweep(now)
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (now, thread_id, html)
            self.size += cost
            while self.size > self.max_bytes:
                self._drop(next(iter(self._entries)))
        _sweeper.watch(self)

    def forget_thread(self, thread_id: str) -> None:
        """Drop every list of this thread (it changed: a post edited, hidden or deleted)."""
        with self._lock:
            for key in [k for k, entry in self._entries.items() if entry[1] == thread_id]:
                self._drop(key)

    def sweep(self) -> None:
        """Drop every entry older than max_age."""
        with self._lock:
            self._sweep(time.monotonic())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _sweep(self, now: float) -> None:
        # Entries are kept in the order they were made, so the old ones are at the front.
        while self._entries:
            key, (made, _, _) = next(iter(self._entries.items()))
            if now - made <= self.max_age:
                return
            self._drop(key)

    def _drop(self, key: bytes) -> None:
        _, _, html = self._entries.pop(key)
        self.size -= self.cost(html)


class _Sweeper:
    """One daemon thread per process that sweeps every cache in use, so an instance nobody
    reads still lets go of what it opened."""

    def __init__(self) -> None:
        self._caches: weakref.WeakSet[RenderedPosts] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, cache: RenderedPosts) -> None:
        if cache in self._caches and self._thread is not None:
            return
        with self._lock:
            self._caches.add(cache)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="rendered-posts-sweeper", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(SWEEP_SECONDS)
            for cache in list(self._caches):
                cache.sweep()


_sweeper = _Sweeper()


def _key(page: dict[str, Any]) -> bytes:
    """A digest of everything the post list shows or depends on."""
    digest = hashlib.blake2b(digest_size=20)

    def add(*parts: object) -> None:
        for part in parts:
            data = part if isinstance(part, bytes) else repr(part).encode()
            digest.update(len(data).to_bytes(4, "big"))
            digest.update(data)

    generate_csrf()  # the session's token exists before it is read
    add(
        current_user.id,
        session.get(current_app.config["WTF_CSRF_FIELD_NAME"], ""),
        current_language(),
        getattr(current_user, "timezone", None) or "UTC",
        page["thread"].id,
        page["page"],
        page["seen"],
        page["can"]["post"],
        page["can"]["moderate"],
        sorted(page["authors"].items()),
    )
    rights = page["post_can"]
    files = page["files"]
    for post in page["posts"]:
        add(
            post.id,
            post.seq,
            post.author_id,
            post.html_sealed,
            post.is_hidden,
            post.is_deleted,
            post.edit_count,
            post.created_at.isoformat(),
            sorted(rights[post.id].items()),
            [(f.id, f.size, f.content_type, f.filename_sealed) for f in files.get(post.id, ())],
        )
    return digest.digest()


def post_list(page: dict[str, Any]) -> Markup:
    """The page's posts as HTML: from memory when this session saw exactly this list lately."""
    cache: RenderedPosts = current_app.extensions[EXTENSION_KEY]
    key = _key(page)
    found = cache.get(key)
    if found is None:
        found = Markup(render_template(TEMPLATE, **page))  # noqa: S704 - Jinja escaped it
        cache.put(key, page["thread"].id, found)
    return found


def forget_after_commit(thread_id: str) -> None:
    """Once this change is committed, drop the thread's lists from this process's memory (other
    processes let go of theirs within MAX_AGE_SECONDS; their keys no longer match anyway)."""

    def forget() -> None:
        cache: RenderedPosts | None = current_app.extensions.get(EXTENSION_KEY)
        if cache is not None:
            cache.forget_thread(thread_id)

    uow.after_commit(forget, once=f"threads.rendered:{thread_id}")


def init_app(app: Any) -> None:
    """Give the app its cache (at blueprint registration)."""
    app.extensions[EXTENSION_KEY] = RenderedPosts()
