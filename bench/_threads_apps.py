"""Apps the threads page benchmark serves next to the Exchange, in the same gunicorn shape:

- `preopened`: the Exchange itself, but the bench's thread has its post HTML opened once at
  start and this process's `forum.threads.content.post_html` hands it out: the same page with
  the cost of opening sealed posts switched off. The Exchange's code knows nothing of it.
- `bare`: a bare Flask page that reads 20 rows from SQLite and opens each with AES-256-GCM.
"""

from __future__ import annotations

import os
import sqlite3

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from markupsafe import Markup, escape
from sqlalchemy import select

from forum import create_app
from forum.crypto import envelope
from forum.extensions import db
from forum.threads import content
from forum.threads.models import Post


def _preopened() -> Flask:
    application = create_app()
    with application.app_context():
        thread_id = os.environ["BENCH_THREAD_ID"]
        rows = {
            post.id: envelope.open_text(post.html_sealed, post.sealed_context("html"))
            for post in db.session.scalars(select(Post).where(Post.thread_id == thread_id))
        }
        db.session.remove()
    opened = content.post_html

    def preopened_html(post: Post) -> Markup:
        if post.id in rows and not post.is_deleted:
            return Markup(rows[post.id])  # noqa: S704 - bench-only, sanitised when it was sealed
        return opened(post)

    content.post_html = preopened_html  # this bench process only
    return application


bare = Flask(__name__)
BARE_DB = os.environ.get("BENCH_BARE_DB", "")
BARE_KEY = bytes.fromhex(os.environ.get("BENCH_BARE_KEY", "00" * 32))
_cipher = AESGCM(BARE_KEY)


@bare.get("/bare")
def bare_page() -> str:
    """20 rows from SQLite, each opened with AES-GCM, in a minimal page."""
    with sqlite3.connect(BARE_DB) as connection:
        found = connection.execute("SELECT id, body FROM posts ORDER BY id LIMIT 20").fetchall()
    connection.close()
    items = []
    for row_id, blob in found:
        text = _cipher.decrypt(blob[:12], blob[12:], f"post:{row_id}:body".encode()).decode()
        items.append(f"<li>{row_id}: {escape(text)}</li>")
    return f"<!doctype html><title>bare</title><ul>{''.join(items)}</ul>"


def make_bare_db(path: str, key: bytes, bodies: list[str]) -> None:
    """The SQLite file the bare page reads: rows sealed with AES-GCM and a row context."""
    cipher = AESGCM(key)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, body BLOB)")
        for n, body in enumerate(bodies, start=1):
            nonce = os.urandom(12)
            sealed = nonce + cipher.encrypt(nonce, body.encode(), f"post:{n}:body".encode())
            connection.execute("INSERT INTO posts (id, body) VALUES (?, ?)", (n, sealed))
    connection.close()


preopened = _preopened() if os.environ.get("BENCH_THREAD_ID") else None
