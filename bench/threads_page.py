"""A thread page with 20 posts, signed in, in requests per second, against (1) the same page with
sealing switched off — its posts' HTML opened once at start by a bench-only hook — and (2) a bare
Flask page that reads 20 rows from SQLite and opens each with AES-256-GCM. All three are served by
the same gunicorn gthread settings in the same run, measured interleaved.

Goals (issue 3): sealing costs under 10% (ratio >= 0.9); at least 0.5x the bare page.
Run: python bench/threads_page.py   (about 40 s; loopback only; stops every process it starts)
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    THREADS,
    WORKERS,
    LoadResult,
    load,
    prepare_instance,
    request,
    serving,
    session_cookie,
)
from _threads_apps import make_bare_db  # noqa: E402
from _threads_data import bodies, make_members  # noqa: E402
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.markup import tlp
from forum.threads import services  # noqa: E402

SECONDS = 3.0
WARM_SECONDS = 1.0
CONNECTIONS = 16
POSTS = 20


def measure(port: int, label: str, path: str, headers: dict[str, str]) -> LoadResult:
    """Check the page answers 200, warm up, then measure under bounded load."""
    status, body = request(port, "GET", path, headers)
    if status != 200:
        raise RuntimeError(f"{label} ({path}) answered {status}: {body[:300]!r}")
    load(port, path, headers, seconds=WARM_SECONDS, connections=CONNECTIONS)
    result = load(port, path, headers, seconds=SECONDS, connections=CONNECTIONS)
    bad = sum(n for code, n in result.statuses.items() if code != 200)
    if bad:
        raise RuntimeError(f"{label}: {bad} responses were not 200 during the run")
    return result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-threads-page-") as tmp:
        folder = Path(tmp)
        instance = prepare_instance(folder / "instance", ratelimit_enabled=False)
        app = instance.app()
        texts = bodies(POSTS)
        with app.app_context():
            people = make_members(5)
            category = services.ensure_default_categories()[0]
            thread = services.start_thread(
                author=people[0],
                category=category,
                title="Hotline staffing after the attack",
                body=texts[0],
                label=tlp.AMBER,
            )
            services.bulk_add_posts(
                thread, people, texts[1:], start_at=datetime(2026, 1, 1, tzinfo=UTC)
            )
            db.session.commit()
            thread_id = thread.id
            cookie = session_cookie(app, people[1])
            db.engine.dispose()
        bare_db = folder / "bare.db"
        key = os.urandom(32)
        make_bare_db(str(bare_db), key, texts)
        env = {
            **instance.env,
            "BENCH_THREAD_ID": thread_id,
            "BENCH_BARE_DB": str(bare_db),
            "BENCH_BARE_KEY": key.hex(),
        }
        path = f"/threads/{thread_id}?page=1"
        headers = {"Cookie": cookie}
        with (
            serving("bench._threads_apps:bare", env, probe_path="/bare") as bare,
            serving("forum:create_app()", instance.env, probe_path="/threads") as sealed,
            serving("bench._threads_apps:preopened", env, probe_path="/threads") as preopened,
        ):
            status, page = request(sealed.port, "GET", path, headers)
            assert status == 200 and page.count(b'class="post card') == POSTS, "20 posts shown"
            rounds: dict[str, list[LoadResult]] = {
                "bare": [],
                "sealed": [],
                "preopened": [],
                "start page": [],
            }
            for _ in range(2):  # interleaved, so drift shifts all three alike
                rounds["bare"].append(measure(bare.port, "bare", "/bare", {}))
                rounds["sealed"].append(measure(sealed.port, "sealed", path, headers))
                rounds["preopened"].append(measure(preopened.port, "preopened", path, headers))
                rounds["start page"].append(measure(sealed.port, "start page", "/", headers))
    rps = {k: sum(r.requests_per_second for r in v) / len(v) for k, v in rounds.items()}
    p50 = {k: sum(r.p50_ms for r in v) / len(v) for k, v in rounds.items()}
    tool = rounds["bare"][0].tool
    print(
        f"\ngunicorn gthread, {WORKERS} workers x {THREADS} threads; load: {tool}, "
        f"{CONNECTIONS} keep-alive connections, {SECONDS:.0f} s per target x 2 rounds, loopback"
    )
    for name in ("bare", "start page", "preopened", "sealed"):
        print(f"  {name:10} {rps[name]:8.0f} req/s   p50 {p50[name]:6.2f} ms")
    figure(
        "threads: page of 20 posts, sealed",
        rps["sealed"],
        "same page, sealing off",
        rps["preopened"],
        "req/s",
        goal=">= 0.9x",
    )
    figure(
        "threads: page of 20 posts, sealed",
        rps["sealed"],
        "bare Flask page, 20 SQLite rows opened with AES-GCM",
        rps["bare"],
        "req/s",
        goal=">= 0.5x",
    )
    figure(
        "threads: page of 20 posts, sealed",
        rps["sealed"],
        "the Exchange's signed-in start page (platform floor)",
        rps["start page"],
        "req/s",
    )


if __name__ == "__main__":
    main()
