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
process; bounded in bytes, and an entry older than MAX_AGE_SECONDS is rendered again, so no
opened text lingers long after it was last read.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any

from flask import current_app, render_template, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from forum.i18n import current_language

EXTENSION_KEY = "exchange.rendered_posts"
MAX_BYTES = 16 * 1024 * 1024
MAX_AGE_SECONDS = 600
TEMPLATE = "threads/_posts.html"


class RenderedPosts:
    """A byte-bounded, age-bounded LRU of rendered post lists, safe across threads."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_age: float = MAX_AGE_SECONDS) -> None:
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.size = 0
        self._entries: OrderedDict[bytes, tuple[float, Markup]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Markup | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if time.monotonic() - found[0] > self.max_age:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: bytes, html: Markup) -> None:
        cost = len(html)
        if cost > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (time.monotonic(), html)
            self.size += cost
            while self.size > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: bytes) -> None:
        _, html = self._entries.pop(key)
        self.size -= len(html)


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
        cache.put(key, found)
    return found


def init_app(app: Any) -> None:
    """Give the app its cache (at blueprint registration)."""
    app.extensions[EXTENSION_KEY] = RenderedPosts()
