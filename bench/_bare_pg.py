"""The bare page on PostgreSQL: a Flask page that reads 20 rows and opens each with AES-256-GCM,
as bench._threads_apps:bare does on SQLite. One connection per serving thread, kept (what a
pool gives the Exchange), so the baseline pays no connection set-up per request."""

from __future__ import annotations

import os
import threading

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from markupsafe import escape

app = Flask(__name__)
URL = os.environ.get("BENCH_BARE_PG", "")
_cipher = AESGCM(bytes.fromhex(os.environ.get("BENCH_BARE_KEY", "00" * 32)))
_local = threading.local()


def _connection() -> psycopg.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or connection.closed:
        connection = _local.connection = psycopg.connect(URL, autocommit=True)
    return connection


@app.get("/bare")
def bare_page() -> str:
    """20 rows from PostgreSQL, each opened with AES-GCM, in a minimal page."""
    found = _connection().execute("SELECT id, body FROM bare_posts ORDER BY id LIMIT 20").fetchall()
    items = []
    for row_id, blob in found:
        blob = bytes(blob)
        text = _cipher.decrypt(blob[:12], blob[12:], f"post:{row_id}:body".encode()).decode()
        items.append(f"<li>{row_id}: {escape(text)}</li>")
    return f"<!doctype html><title>bare</title><ul>{''.join(items)}</ul>"
