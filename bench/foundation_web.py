"""Web throughput: the sign-in page and signed-in pages of the Exchange, in requests per second,
against a bare Flask "hello" route (and a bare page reading 20 rows from SQLite) served by the
same gunicorn settings in the same run (sync x 2 with reuse-port, as bench/threads_page.py
chose: page workers without threads compare like with like). Each target is reported with the
server's CPU ms per request and its split across the two workers.
Goal: a signed-in page at least 0.25x hello.

Run: python bench/foundation_web.py   (about 40 s; loopback only; stops every process it starts)
Install wrk first (`sudo apt-get install -y wrk`); the Python fallback takes CPU from the server.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PAGE_WORKER_CLASS,
    WORKERS,
    LoadResult,
    Server,
    load,
    prepare_instance,
    request,
    served_keys,
    serving,
    session_cookie,
)
from _hello import make_rows_db  # noqa: E402
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.members import services  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402

SECONDS = 3.0
WARM_SECONDS = 1.0
CONNECTIONS = 16
MEMBERS = 30


def measure(server: Server, label: str, path: str, headers: dict[str, str]) -> LoadResult:
    """Check the page answers 200, warm up, then measure under bounded load."""
    status, body = request(server.port, "GET", path, headers)
    if status != 200:
        raise RuntimeError(f"{label} ({path}) answered {status}: {body[:200]!r}")
    load(server, path, headers, seconds=WARM_SECONDS, connections=CONNECTIONS)
    result = load(server, path, headers, seconds=SECONDS, connections=CONNECTIONS)
    bad = sum(n for code, n in result.statuses.items() if code != 200)
    if bad:
        raise RuntimeError(f"{label}: {bad} responses were not 200 during the run")
    return result


def _mean(a: LoadResult, b: LoadResult) -> LoadResult:
    return LoadResult(
        (a.requests_per_second + b.requests_per_second) / 2,
        (a.p50_ms + b.p50_ms) / 2,
        (a.p99_ms + b.p99_ms) / 2,
        a.requests + b.requests,
        a.statuses + b.statuses,
        a.tool,
        (a.cpu_ms_per_request + b.cpu_ms_per_request) / 2,
        f"{a.cpu_split} {b.cpu_split}",
        (a.client_cores + b.client_cores) / 2,
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        folder = Path(tmp)
        instance = prepare_instance(folder / "instance")
        app = instance.app()
        with app.app_context():
            password_hash = hash_password("a long bench password 2026")
            organisation = services.get_or_create_organisation("Bench NGO", "BE", "ngo")
            member = None
            for n in range(MEMBERS):
                member = services.create_member(
                    email=f"bench{n}@example.org",
                    name=f"Bench Member {n}",
                    password_hash=password_hash,
                    organisation=organisation,
                    country="BE",
                    timezone="Europe/Brussels",
                )
            db.session.commit()
            cookie = session_cookie(app, member)
            adapter = app.url_map.bind("localhost")
            sign_in_path = adapter.build("members.sign_in")
            directory_path = adapter.build("members.directory")
            db.engine.dispose()
        rows_db = folder / "rows.db"
        make_rows_db(str(rows_db))
        results: dict[str, LoadResult] = {}
        hello_env = {**instance.env, "BENCH_ROWS_DB": str(rows_db)}
        signed_in = {"Cookie": cookie}
        # Both servers run for the whole run and targets are interleaved, hello first and last,
        # so a machine busy with other work shifts baseline and pages alike.
        with (
            serving(
                "bench._hello:app", hello_env, probe_path="/hello", worker_class=PAGE_WORKER_CLASS
            ) as bare,
            serving(
                "forum:create_app()",
                instance.env,
                probe_path=sign_in_path,
                worker_class=PAGE_WORKER_CLASS,
            ) as exchange,
        ):
            first_hello = measure(bare, "hello", "/hello", {})
            results["bare page, 20 SQLite rows"] = measure(bare, "rows", "/rows", {})
            results["sign-in page"] = measure(exchange, "sign-in", sign_in_path, {})
            results["start page (signed in)"] = measure(exchange, "home", "/", signed_in)
            results[f"directory, {MEMBERS} sealed names (signed in)"] = measure(
                exchange, "directory", directory_path, signed_in
            )
            last_hello = measure(bare, "hello", "/hello", {})
        results = {"bare hello": _mean(first_hello, last_hello), **results}
        drift = last_hello.requests_per_second / first_hello.requests_per_second

    hello = results["bare hello"]
    tool = hello.tool
    print(
        f"\nhello measured first and last: {first_hello.requests_per_second:.0f} and "
        f"{last_hello.requests_per_second:.0f} req/s (drift {drift:.2f}x; the mean is the baseline)"
    )
    print(
        f"\ngunicorn {PAGE_WORKER_CLASS}, {WORKERS} workers, reuse-port; load: {tool}, "
        f"{CONNECTIONS} connections, {SECONDS:.0f} s per target, loopback"
    )
    print(
        f"{'target':44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x hello':>8}"
        f" {'CPU ms/req':>10}  worker split"
    )
    for name, result in results.items():
        print(
            f"{name:44} {result.requests_per_second:9.0f} {result.p50_ms:8.2f} "
            f"{result.p99_ms:8.2f} {result.requests_per_second / hello.requests_per_second:8.3f}"
            f" {result.cpu_ms_per_request:10.2f}  {result.cpu_split}"
        )
    print()
    for name, result in results.items():
        if name == "bare hello":
            continue
        goal = ">= 0.25x" if "signed in" in name else ""
        figure(
            f"web: {name}",
            result.requests_per_second,
            "bare Flask hello",
            hello.requests_per_second,
            "req/s",
            goal=goal,
            server=f"gunicorn {PAGE_WORKER_CLASS} {WORKERS}, reuse-port",
            **served_keys([result], [first_hello, last_hello]),
        )


if __name__ == "__main__":
    main()
