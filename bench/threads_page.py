"""A thread page with 20 posts, signed in, in requests per second, against (1) the same page with
sealing switched off — its posts' HTML opened once at start by a bench-only hook — and (2) a bare
Flask page that reads 20 rows from SQLite and opens each with AES-256-GCM. All are served by
the same gunicorn settings in the same run, measured interleaved in 3 rounds; each figure is
the median over rounds, with its min–max range, the server's CPU ms per request and its split
across the two workers (a pinned run shows as "100/0"), the client's cores, and the most
cores other work on the machine took during a round (about 0 on a quiet machine).

Workers: sync x 2 by default, as the CPU per request is no worse (sealed page 29.7–31.3 ms under
sync, 29.4–41.0 under gthread 2 x 8, 3 runs each, reuse-port, 2026-12-03) and no threads share a
GIL. `--worker-class gthread` serves 2 x 8 threads instead (what the live channel needs).

Goals (issues 3 and 14): sealing costs under 10% (ratio >= 0.9); the thread page at least 0.5x
the bare page, the signed-in start page at least 0.8x; the same on PostgreSQL (`--database
postgresql`: the Exchange and the bare page each on a fresh loopback database, dropped after).
Run: python bench/threads_page.py [--worker-class sync|gthread] [--database sqlite|postgresql]
(about 70 s; loopback only;
stops every process it starts). Install wrk first (`sudo apt-get install -y wrk`): the Python
fallback client takes CPU from the server on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _postgres as pg  # noqa: E402
from _common import (  # noqa: E402
    PAGE_WORKER_CLASS,
    THREADS,
    WORKERS,
    LoadResult,
    Server,
    load,
    median,
    prepare_instance,
    request,
    served_keys,
    serving,
    session_cookie,
)
from _threads_apps import make_bare_db  # noqa: E402
from _threads_data import bodies, make_members, thread_with_posts  # noqa: E402
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402

SECONDS = 3.0
WARM_SECONDS = 1.0
ROUNDS = 3
CONNECTIONS = 16
POSTS = 20
TARGETS = ("bare", "start page", "preopened", "sealed")


def measure(server: Server, label: str, path: str, headers: dict[str, str]) -> LoadResult:
    """Check the page answers 200, warm up, then measure under bounded load."""
    status, body = request(server.port, "GET", path, headers)
    if status != 200:
        raise RuntimeError(f"{label} ({path}) answered {status}: {body[:300]!r}")
    load(server, path, headers, seconds=WARM_SECONDS, connections=CONNECTIONS)
    result = load(server, path, headers, seconds=SECONDS, connections=CONNECTIONS)
    bad = sum(n for code, n in result.statuses.items() if code != 200)
    if bad:
        raise RuntimeError(f"{label}: {bad} responses were not 200 during the run")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default=PAGE_WORKER_CLASS)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="postgresql: the Exchange and the bare page both on a fresh loopback database",
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url = None
        if args.database == "postgresql":
            if not pg.available():
                print(f"PostgreSQL does not answer at {pg.SERVER}")
                return 2
            database_url = stack.enter_context(pg.fresh_database("bench_page"))
        run(args.worker_class, database_url)
    return 0


def run(worker_class: str, database_url: str | None) -> None:
    """Serve the targets, measure them interleaved, print the table and the figures."""
    on = " on PostgreSQL" if database_url else ""
    rows = "PostgreSQL" if database_url else "SQLite"
    with tempfile.TemporaryDirectory(prefix="bench-threads-page-") as tmp:
        folder = Path(tmp)
        instance = prepare_instance(
            folder / "instance", ratelimit_enabled=False, database_url=database_url
        )
        app = instance.app()
        texts = bodies(POSTS)
        with app.app_context():
            people = make_members(5)
            thread_id = thread_with_posts(people, texts)
            cookie = session_cookie(app, people[1])
            db.engine.dispose()
        bare_db = folder / "bare.db"
        key = os.urandom(32)
        bare_app = "bench._threads_apps:bare"
        if database_url:
            pg.make_bare_table(database_url, key, texts)
            bare_app = "bench._bare_pg:app"
        else:
            make_bare_db(str(bare_db), key, texts)
        env = {
            **instance.env,
            "BENCH_THREAD_ID": thread_id,
            "BENCH_BARE_DB": str(bare_db),
            "BENCH_BARE_PG": pg.plain_url(database_url) if database_url else "",
            "BENCH_BARE_KEY": key.hex(),
        }
        path = f"/threads/{thread_id}?page=1"
        headers = {"Cookie": cookie}
        shape = {"worker_class": worker_class}
        with (
            serving(bare_app, env, probe_path="/bare", **shape) as bare,
            serving("forum:create_app()", instance.env, probe_path="/threads", **shape) as sealed,
            serving(
                "bench._threads_apps:preopened", env, probe_path="/threads", **shape
            ) as preopened,
        ):
            status, page = request(sealed.port, "GET", path, headers)
            assert status == 200 and page.count(b'class="post card') == POSTS, "20 posts shown"
            rounds: dict[str, list[LoadResult]] = {name: [] for name in TARGETS}
            for _ in range(ROUNDS):  # interleaved, so drift shifts every target alike
                rounds["bare"].append(measure(bare, "bare", "/bare", {}))
                rounds["sealed"].append(measure(sealed, "sealed", path, headers))
                rounds["preopened"].append(measure(preopened, "preopened", path, headers))
                rounds["start page"].append(measure(sealed, "start page", "/", headers))
    rps = {k: median([r.requests_per_second for r in v]) for k, v in rounds.items()}
    tool = rounds["bare"][0].tool
    threads = f" x {THREADS} threads" if worker_class == "gthread" else ""
    print(
        f"\ngunicorn {worker_class}, {WORKERS} workers{threads}, reuse-port; load: {tool}, "
        f"{CONNECTIONS} connections, {SECONDS:.0f} s per target x {ROUNDS} interleaved rounds, "
        "loopback; medians over rounds"
    )
    print(
        f"  {'target':10} {'req/s':>7} {'min–max':>11} {'p50 ms':>7} {'CPU ms/req':>10}"
        f" {'client cores':>12} {'other cores':>11}  worker split per round"
    )
    for name in TARGETS:
        got = rounds[name]
        low = min(r.requests_per_second for r in got)
        high = max(r.requests_per_second for r in got)
        print(
            f"  {name:10} {rps[name]:7.0f} {f'{low:.0f}–{high:.0f}':>11}"
            f" {median([r.p50_ms for r in got]):7.2f}"
            f" {median([r.cpu_ms_per_request for r in got]):10.2f}"
            f" {median([r.client_cores for r in got]):12.2f}"
            f" {max(r.other_cores for r in got):11.2f}  {' '.join(r.cpu_split for r in got)}"
        )
    shape_note = {"server": f"gunicorn {worker_class} {WORKERS}{threads}, reuse-port"}
    figure(
        f"threads: page of 20 posts, sealed{on}",
        rps["sealed"],
        "same page, sealing off",
        rps["preopened"],
        "req/s",
        goal=">= 0.9x",
        **shape_note,
        **served_keys(rounds["sealed"], rounds["preopened"]),
    )
    figure(
        f"threads: page of 20 posts, sealed{on}",
        rps["sealed"],
        f"bare Flask page, 20 {rows} rows opened with AES-GCM",
        rps["bare"],
        "req/s",
        goal=">= 0.5x",
        **shape_note,
        **served_keys(rounds["sealed"], rounds["bare"]),
    )
    figure(
        f"signed-in start page{on}",
        rps["start page"],
        f"bare Flask page, 20 {rows} rows opened with AES-GCM",
        rps["bare"],
        "req/s",
        goal=">= 0.8x",
        **shape_note,
        **served_keys(rounds["start page"], rounds["bare"]),
    )
    figure(
        f"threads: page of 20 posts, sealed{on}",
        rps["sealed"],
        "the Exchange's signed-in start page (platform floor)",
        rps["start page"],
        "req/s",
        **shape_note,
        **served_keys(rounds["sealed"], rounds["start page"]),
    )


if __name__ == "__main__":
    sys.exit(main())
