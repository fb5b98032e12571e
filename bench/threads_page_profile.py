"""Where a signed-in page's time goes, by layer: the profile behind the page figures of
bench/threads_page.py (issue 14 asks for it where a goal is not met).

In-process (Flask's test client, SQLite, sealing on), after warming up: the thread page of 20
posts, the start page, and the bare page (20 SQLite rows opened with AES-GCM) each run under
cProfile, and their own time is summed by the package it was spent in: SQLAlchemy, Jinja and
MarkupSafe, Flask/Werkzeug/Flask-Login/Flask-WTF/Flask-Babel, the Exchange's own code
(forum/, templates are counted as Jinja), the sqlite3 driver and AES-GCM (cryptography), and the
rest of Python. Printed with the CPU ms per page measured without the profiler, function calls
per page, and SQL statements per page.

Run: python bench/threads_page_profile.py   (about 30 s; in-process, no network)
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepare_instance, session_cookie  # noqa: E402
from _threads_data import bodies, make_members, thread_with_posts  # noqa: E402
from figures import figure  # noqa: E402
from sqlalchemy import event  # noqa: E402

from forum.extensions import db  # noqa: E402

POSTS = 20
WARM = 30
TIMED = 200
PROFILED = 50
LAYERS = [
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("Jinja, MarkupSafe (templates)", ("jinja2/", "markupsafe/", "/templates/")),
    (
        "Flask, Werkzeug, extensions",
        ("flask/", "werkzeug/", "flask_login/", "flask_wtf/", "wtforms/", "flask_babel/", "babel/"),
    ),
    ("the Exchange (forum/)", ("/forum/",)),
    ("sqlite3 driver", ("sqlite3", "{method 'execute' of 'sqlite3", "{method 'fetch")),
    ("AES-GCM (cryptography)", ("cryptography", "AESGCM", "{method 'decrypt'")),
]


def layer_of(filename: str, name: str) -> str:
    """The layer a profiled function belongs to."""
    where = f"{filename}:{name}"
    for layer, marks in LAYERS:
        if any(mark in where for mark in marks):
            return layer
    return "Python and the rest"


def profile(get, path: str) -> tuple[float, float, Counter[str]]:
    """CPU ms per page (no profiler), function calls per page, and own time by layer."""
    for _ in range(WARM):
        get(path)
    started = time.process_time()
    for _ in range(TIMED):
        get(path)
    cpu_ms = (time.process_time() - started) * 1000 / TIMED
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        get(path)
    profiler.disable()
    stats = pstats.Stats(profiler)
    layers: Counter[str] = Counter()
    for (filename, _line, name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        layers[layer_of(filename, name)] += own
    return cpu_ms, stats.total_calls / PROFILED, layers  # type: ignore[attr-defined]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-page-profile-") as tmp:
        folder = Path(tmp)
        instance = prepare_instance(folder / "instance", ratelimit_enabled=False)
        app = instance.app()
        texts = bodies(POSTS)
        with app.app_context():
            people = make_members(5)
            thread_id = thread_with_posts(people, texts)
            cookie = session_cookie(app, people[1])
            engine = db.engine
        from _threads_apps import make_bare_db

        key = os.urandom(32)
        make_bare_db(str(folder / "bare.db"), key, texts)
        os.environ["BENCH_BARE_DB"] = str(folder / "bare.db")
        os.environ["BENCH_BARE_KEY"] = key.hex()
        import importlib

        import _threads_apps

        importlib.reload(_threads_apps)  # it reads the bare database's path when imported
        bare_client = _threads_apps.bare.test_client()
        client = app.test_client()
        name, _, value = cookie.partition("=")
        client.set_cookie(name, value)
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

        def exchange(path: str) -> None:
            assert client.get(path).status_code == 200, path

        def bare(path: str) -> None:
            assert bare_client.get(path).status_code == 200, path

        rows = []
        for label, get, path in (
            ("bare page", bare, "/bare"),
            ("thread page, 20 posts", exchange, f"/threads/{thread_id}?page=1"),
            ("start page", exchange, "/"),
        ):
            get(path)
            statements.clear()
            get(path)
            count = len(statements)
            rows.append((label, count, *profile(get, path)))
    print("\nin-process (test client), SQLite, sealing on; own time by layer, % of the page's")
    header = "".join(f"{label[:14]:>16}" for label, _ in LAYERS) + f"{'rest':>8}"
    print(f"  {'page':22} {'CPU ms':>7} {'calls':>7} {'SQL':>4}{header}")
    for label, count, cpu_ms, calls, layers in rows:
        total = sum(layers.values()) or 1.0
        shares = "".join(f"{100 * layers[layer] / total:15.0f}%" for layer, _ in LAYERS)
        rest = 100 * layers["Python and the rest"] / total
        print(f"  {label:22} {cpu_ms:7.2f} {calls:7.0f} {count:4d}{shares}{rest:7.0f}%")
    bare_ms = rows[0][2]
    for label, _count, cpu_ms, _calls, _layers in rows[1:]:
        figure(
            f"profile: {label}, CPU per page in-process",
            cpu_ms,
            "the bare page in the same process",
            bare_ms,
            "ms",
            higher_is_better=False,
        )


if __name__ == "__main__":
    main()
