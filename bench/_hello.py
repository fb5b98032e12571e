"""The baselines for web figures: a bare Flask "hello" route, and a bare page reading 20 rows
from SQLite, served by the same gunicorn settings as the Exchange in the same run."""

from __future__ import annotations

import os
import sqlite3

from flask import Flask

app = Flask(__name__)
ROWS_DB = os.environ.get("BENCH_ROWS_DB", "")


@app.get("/hello")
def hello() -> str:
    """The cheapest page Flask can serve."""
    return "hello"


@app.get("/rows")
def rows() -> str:
    """A bare page that reads 20 rows from SQLite and lists them."""
    with sqlite3.connect(ROWS_DB) as connection:
        found = connection.execute("SELECT id, title FROM rows ORDER BY id LIMIT 20").fetchall()
    connection.close()
    items = "".join(f"<li>{row_id}: {title}</li>" for row_id, title in found)
    return f"<!doctype html><title>rows</title><ul>{items}</ul>"


def make_rows_db(path: str) -> None:
    """Create the SQLite file the /rows page reads."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, title TEXT)")
        connection.executemany(
            "INSERT INTO rows (title) VALUES (?)", [(f"Lesson learned {i}",) for i in range(200)]
        )
    connection.close()
