"""Load: 50 concurrent signed-in members browse, post and answer an alert for 60 seconds.

Each virtual member keeps one keep-alive connection and loops over a weighted mix of what
members do during an attack response: read the thread list, read the coordination thread,
reply in it, read the alert, answer it (changing their answer), and open the start page.
Reports server errors (any 5xx), and median and 99th-percentile latency per action and overall,
next to a bare Flask "hello" served by the same gunicorn shape, measured interleaved with the
mixed load in the same rounds (hello, mix, hello, mix, ...). Each round also reports the
server's CPU ms per request with its split across workers, and the client's own CPU in cores:
the client is Python (one thread a member, in this process, since replies and answers need
each member's session cookie and CSRF token), and on two cores what it takes is not the server's.

Usage: python bench/ops_load.py [--members 50] [--seconds 60] [--rounds 3] [--baseline-seconds]
(`--seconds 10` for a short check). Loopback only; every loop is bounded in count and time;
every process is stopped by its pid.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _postgres as pg  # noqa: E402
from _common import (  # noqa: E402
    HOST,
    ROOT,
    THREADS,
    WORKERS,
    LoadResult,
    Server,
    cpu_split,
    machine_cpu,
    median,
    percentile,
    prepare_instance,
    served_keys,
    serving,
    session_cookie,
)
from figures import figure  # noqa: E402

from forum.alerts import services as alerts  # noqa: E402
from forum.db import utcnow  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.members.services import create_member, get_or_create_organisation  # noqa: E402
from forum.threads import services as threads  # noqa: E402

ACTIONS = [
    ("thread list", 20),
    ("thread page", 30),
    ("reply", 10),
    ("alert page", 15),
    ("answer", 10),
    ("start page", 15),
]
ANSWERS = ["seen", "can_help", "nationals_affected", "not_available"]
MAX_REQUESTS_PER_MEMBER = 20_000
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class VirtualMember:
    """One signed-in member clicking through the Exchange on one keep-alive connection a round."""

    def __init__(
        self, port: int, cookie: str, thread_id: str, alert_id: str, seed: int, think: float = 0.0
    ) -> None:
        self.port, self.cookie = port, cookie
        self.think = think
        self.thread_id, self.alert_id = thread_id, alert_id
        self.random = random.Random(seed)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[int] = Counter()
        self.token = ""

    def _request(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        headers = {"Cookie": self.cookie}
        body = None
        if form is not None:
            body = urlencode({**form, "csrf_token": self.token})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("exchange_session="):
                self.cookie = value.split(";", 1)[0]
        found = CSRF.search(text)
        if found:
            self.token = found.group(1)
        return response.status, text

    def _do(self, conn: http.client.HTTPConnection, action: str) -> int:
        if action == "thread list":
            return self._request(conn, "GET", "/threads")[0]
        if action == "thread page":
            return self._request(conn, "GET", f"/threads/{self.thread_id}")[0]
        if action == "reply":
            body = f"From our side: interpreters and a family liaison officer at the hospital ({self.random.random():.6f})."
            return self._request(conn, "POST", f"/threads/{self.thread_id}/posts", {"body": body})[
                0
            ]
        if action == "alert page":
            return self._request(conn, "GET", f"/alerts/{self.alert_id}")[0]
        if action == "answer":
            answer = self.random.choice(ANSWERS)
            return self._request(
                conn, "POST", f"/alerts/{self.alert_id}/answer", {"answer": answer, "note": ""}
            )[0]
        return self._request(conn, "GET", "/")[0]

    def run_until(self, deadline: float) -> None:
        """Loop over the weighted mix until the deadline (bounded in count too)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        names = [name for name, _ in ACTIONS]
        weights = [weight for _, weight in ACTIONS]
        try:
            for _ in range(MAX_REQUESTS_PER_MEMBER):
                if time.monotonic() >= deadline:
                    return
                # A page (and so a CSRF token) before any POST; measured like any other.
                action = self.random.choices(names, weights)[0] if self.token else "thread page"
                started = time.perf_counter()
                try:
                    status = self._do(conn, action)
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                    # The server closed the idle keep-alive connection while the member read
                    # (gunicorn's keep-alive is 5 s): a browser opens a new one and sends again.
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                    try:
                        status = self._do(conn, action)
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                        status = 599  # failed on a fresh connection too: a server error
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                    status = 599  # the connection failed: counted as a server error
                self.latencies[action].append((time.perf_counter() - started) * 1000)
                self.statuses[status] += 1
                pause(self.random, self.think, deadline)
        finally:
            conn.close()


def pause(chance: random.Random, think: float, deadline: float) -> None:
    """A member reading before the next click: exponential, `think` seconds on average."""
    if think > 0:
        time.sleep(max(0.0, min(chance.expovariate(1 / think), deadline - time.monotonic())))


class HelloMember:
    """The baseline: the same client loop against a bare Flask hello under the same gunicorn shape."""

    def __init__(self, port: int, seed: int = 0, think: float = 0.0) -> None:
        self.port = port
        self.think = think
        self.random = random.Random(seed)
        self.latencies: dict[str, list[float]] = {"hello": []}
        self.statuses: Counter[int] = Counter()

    def run_until(self, deadline: float) -> None:
        """GET /hello on one keep-alive connection until the deadline (bounded in count too)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            for _ in range(MAX_REQUESTS_PER_MEMBER * 5):
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                try:
                    try:
                        conn.request("GET", "/hello")
                        response = conn.getresponse()
                    except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                        conn.close()  # closed while idle, as above: send again, as a browser does
                        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                        conn.request("GET", "/hello")
                        response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                    status = 599
                self.latencies["hello"].append((time.perf_counter() - started) * 1000)
                self.statuses[status] += 1
                pause(self.random, self.think, deadline)
        finally:
            conn.close()


def prepare(
    folder: Path, members: int, database_url: str | None = None
) -> tuple[object, list[str], str, str]:
    """An instance with `members` members, a coordination thread with 20 posts, and an alert."""
    instance = prepare_instance(folder, ratelimit_enabled=True, database_url=database_url)
    app = instance.app()
    with app.app_context():
        shared_hash = hash_password("load test password, not used to sign in")
        organisation = get_or_create_organisation(
            "Victim Support Europe", country="BE", sector="ngo"
        )
        people = [
            create_member(
                email=f"load{i}@bench.example.org",
                name=f"Load Member {i}",
                password_hash=shared_hash,
                organisation=organisation,
                country=random.Random(i).choice(["BE", "FR", "DE", "ES", "SE"]),
            )
            for i in range(members)
        ]
        db.session.commit()
        threads.ensure_default_categories()
        thread = threads.start_thread(
            author=people[0],
            category=None,
            title="Coordination: explosion at the central station",
            body="Who can help with interpreters and family liaison?",
            label="AMBER",
        )
        for i in range(19):
            threads.reply(
                author=people[i % members],
                thread=thread,
                body=f"Update {i}: what we know so far.",
                pii_confirmed=True,
            )
        alert = alerts.raise_alert(
            people[1],
            kind="attack",
            title="Explosion at the central station",
            city="Exampleville",
            country="BE",
            occurred_at=utcnow() - timedelta(minutes=20),
            needs="Interpreters",
            severity="critical",
            nationalities=["FR", "DE"],
        )
        db.session.commit()
        cookies = [session_cookie(app, person) for person in people]
        ids = (thread.id, alert.id)
        db.session.remove()
        db.engine.dispose()
    return instance, cookies, ids[0], ids[1]


Client = VirtualMember | HelloMember


def run_round(server: Server, crowd: list[Client], seconds: float) -> LoadResult:
    """One bounded round of the whole crowd against one server, with server and client CPU."""
    before_requests = sum(sum(m.statuses.values()) for m in crowd)
    seen = {(i, a): len(v) for i, m in enumerate(crowd) for a, v in m.latencies.items()}
    server_before = server.worker_cpu()
    machine_before, client_before = machine_cpu(), time.process_time()
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=m.run_until, args=(deadline,), daemon=True) for m in crowd]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    client_used = time.process_time() - client_before
    used, split = cpu_split(server_before, server.worker_cpu())
    other = max(0.0, (machine_cpu() - machine_before - used - client_used) / elapsed)
    requests = sum(sum(m.statuses.values()) for m in crowd) - before_requests
    fresh = [
        value
        for i, member in enumerate(crowd)
        for action, values in member.latencies.items()
        for value in values[seen.get((i, action), 0) :]
    ]
    return LoadResult(
        requests / elapsed,
        median(fresh),
        percentile(fresh, 0.99),
        requests,
        Counter(),
        "python",
        used * 1000 / requests if requests else float("nan"),
        split,
        client_used / elapsed,
        other,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0, help="mixed load, all rounds")
    parser.add_argument(
        "--baseline-seconds", type=float, help="hello, all rounds (default: a quarter of --seconds)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds a member reads between clicks, on average (0: click again at once)",
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--serve",
        choices=("gunicorn", "embedded"),
        default="gunicorn",
        help="embedded: the Exchange as `exchange serve` runs it (one ASGI worker, its page "
        "threads); the hello baseline stays on gunicorn gthread",
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        database_url = None
        if args.database == "postgresql":
            if not pg.available():
                print(f"PostgreSQL does not answer at {pg.SERVER}")
                return 2
            database_url = stack.enter_context(pg.fresh_database("bench_load"))
        return measure(args, database_url)


def measure(args: argparse.Namespace, database_url: str | None) -> int:
    """The rounds, the table and the figures of one run."""
    mode = "" if args.think <= 0 else f", reading {args.think:g} s between clicks"
    mode += " on PostgreSQL" if database_url else ""
    mode += ", embedded server" if args.serve == "embedded" else ""
    exchange = (
        {"worker_class": "asgi", "workers": 1}
        if args.serve == "embedded"
        else {"worker_class": "gthread"}
    )
    app_spec = "forum.ops.asgi:create_asgi()" if args.serve == "embedded" else "forum:create_app()"
    baseline_seconds = args.baseline_seconds or args.seconds / 4
    hello_rounds: list[LoadResult] = []
    load_rounds: list[LoadResult] = []
    with tempfile.TemporaryDirectory(prefix="exchange-load-") as tmp:
        instance, cookies, thread_id, alert_id = prepare(
            Path(tmp) / "instance", args.members, database_url
        )
        env = instance.env
        # Both servers run the whole time and the rounds alternate hello and the mixed load,
        # so whatever else the machine does shifts baseline and target alike.
        with (
            serving(
                "_hello:app", {**env, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}"}, probe_path="/hello"
            ) as hello,
            serving(app_spec, env, probe_path="/healthz", **exchange) as server,
        ):
            crowd = [
                VirtualMember(server.port, cookie, thread_id, alert_id, seed, args.think)
                for seed, cookie in enumerate(cookies)
            ]
            baseline = [HelloMember(hello.port, seed, args.think) for seed in range(len(cookies))]
            for _ in range(args.rounds):
                hello_rounds.append(run_round(hello, baseline, baseline_seconds / args.rounds))
                load_rounds.append(run_round(server, crowd, args.seconds / args.rounds))

    statuses: Counter[int] = Counter()
    per_action: dict[str, list[float]] = defaultdict(list)
    for member in crowd:
        statuses.update(member.statuses)
        for action, values in member.latencies.items():
            per_action[action].extend(values)
    everything = [value for values in per_action.values() for value in values]
    hello_latencies = [value for member in baseline for value in member.latencies["hello"]]
    hello_errors = sum(n for m in baseline for code, n in m.statuses.items() if code >= 500)
    errors = sum(count for status, count in statuses.items() if status >= 500)
    rps = median([r.requests_per_second for r in load_rounds])
    hello_rps = median([r.requests_per_second for r in hello_rounds])
    print(
        ("the Exchange as exchange serve runs it, hello on " if args.serve == "embedded" else "")
        + f"gunicorn gthread {WORKERS} x {THREADS}, reuse-port, for both; Python client, one thread "
        f"a member, in this process; {args.rounds} rounds, each hello "
        f"{baseline_seconds / args.rounds:.1f} s then the mix {args.seconds / args.rounds:.1f} s"
    )
    print(
        f"{args.members} members{mode} for {args.seconds:.0f}s: {len(everything)} requests; "
        f"statuses {dict(sorted(statuses.items()))}; server errors {errors}"
    )
    for action, _ in ACTIONS:
        values = per_action.get(action, [])
        print(
            f"  {action:12s} n={len(values):6d}  p50 {median(values):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms"
        )
    print(
        f"  {'target':12s} {'req/s':>7} {'min–max':>11} {'server CPU ms/req':>17}"
        f" {'client cores':>12} {'other cores':>11}  worker split per round"
    )
    for name, rounds in (("mixed load", load_rounds), ("bare hello", hello_rounds)):
        low = min(r.requests_per_second for r in rounds)
        high = max(r.requests_per_second for r in rounds)
        print(
            f"  {name:12s} {median([r.requests_per_second for r in rounds]):7.1f}"
            f" {f'{low:.0f}–{high:.0f}':>11}"
            f" {median([r.cpu_ms_per_request for r in rounds]):17.2f}"
            f" {median([r.client_cores for r in rounds]):12.2f}"
            f" {max(r.other_cores for r in rounds):11.2f}  {' '.join(r.cpu_split for r in rounds)}"
        )
    if hello_errors:
        print(f"  bare hello: {hello_errors} server errors")
    served = {
        "server": "exchange serve (one ASGI worker)"
        if args.serve == "embedded"
        else f"gunicorn gthread {WORKERS}x{THREADS}, reuse-port",
        **served_keys(load_rounds, hello_rounds),
        "client_cores": median([r.client_cores for r in load_rounds]),
        "baseline_client_cores": median([r.client_cores for r in hello_rounds]),
    }
    figure(
        f"load: p50 latency, {args.members} members mixed{mode}",
        median(everything),
        f"bare hello p50, {args.members} clients",
        median(hello_latencies),
        "ms",
        higher_is_better=False,
        **served,
    )
    figure(
        f"load: p99 latency, {args.members} members mixed{mode}",
        percentile(everything, 0.99),
        f"bare hello p99, {args.members} clients",
        percentile(hello_latencies, 0.99),
        "ms",
        goal="< 300 ms",
        higher_is_better=False,
        **served,
    )
    figure(
        f"load: requests per second, {args.members} members mixed{mode}",
        rps,
        f"bare hello, {args.members} clients",
        hello_rps,
        "req/s",
        **served,
    )
    figure(
        f"load: server errors{mode}",
        float(errors),
        "requests",
        float(len(everything)),
        "count",
        goal="0",
        higher_is_better=False,
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
