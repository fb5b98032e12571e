"""Load: 50 concurrent signed-in members browse, post and answer an alert for 60 seconds.

Each virtual member keeps one keep-alive connection and loops over a weighted mix of what
members do during an attack response: read the thread list, read the coordination thread,
reply in it, read the alert, answer it (changing their answer), and open the start page.
Reports zero-or-more server errors (any 5xx), and median and 99th-percentile latency per action
and overall, next to a bare Flask "hello" served by the same gunicorn shape in the same run.

Usage: python bench/ops_load.py [--members 50] [--seconds 60]
Loopback only; every loop is bounded in count and time; every process is stopped by its pid.
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
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import HOST, ROOT, median, percentile, prepare_instance, serving, session_cookie  # noqa: E402
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


class VirtualMember(threading.Thread):
    """One signed-in member clicking through the Exchange on one keep-alive connection."""

    def __init__(
        self, port: int, cookie: str, thread_id: str, alert_id: str, deadline: float, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.cookie = port, cookie
        self.thread_id, self.alert_id = thread_id, alert_id
        self.deadline = deadline
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

    def run(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        names = [name for name, _ in ACTIONS]
        weights = [weight for _, weight in ACTIONS]
        try:
            self._request(conn, "GET", f"/threads/{self.thread_id}")  # a token before any POST
            for _ in range(MAX_REQUESTS_PER_MEMBER):
                if time.monotonic() >= self.deadline:
                    return
                action = self.random.choices(names, weights)[0]
                started = time.perf_counter()
                try:
                    status = self._do(conn, action)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
                    status = 599  # the connection failed: counted as a server error
                self.latencies[action].append((time.perf_counter() - started) * 1000)
                self.statuses[status] += 1
        finally:
            conn.close()


class HelloMember(threading.Thread):
    """The baseline: the same loop against a bare Flask hello under the same gunicorn shape."""

    def __init__(self, port: int, deadline: float) -> None:
        super().__init__(daemon=True)
        self.port, self.deadline = port, deadline
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()

    def run(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            for _ in range(MAX_REQUESTS_PER_MEMBER * 5):
                if time.monotonic() >= self.deadline:
                    return
                started = time.perf_counter()
                conn.request("GET", "/hello")
                response = conn.getresponse()
                response.read()
                self.latencies.append((time.perf_counter() - started) * 1000)
                self.statuses[response.status] += 1
        finally:
            conn.close()


def prepare(folder: Path, members: int) -> tuple[object, list[str], str, str]:
    """An instance with `members` members, a coordination thread with 20 posts, and an alert."""
    instance = prepare_instance(folder, ratelimit_enabled=True)
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


def run_members(
    port: int, cookies: list[str], thread_id: str, alert_id: str, seconds: float
) -> list[VirtualMember]:
    deadline = time.monotonic() + seconds
    crowd = [
        VirtualMember(port, cookie, thread_id, alert_id, deadline, seed)
        for seed, cookie in enumerate(cookies)
    ]
    for member in crowd:
        member.start()
    for member in crowd:
        member.join(timeout=seconds + 60)
    return crowd


def run_hello(port: int, count: int, seconds: float) -> list[HelloMember]:
    deadline = time.monotonic() + seconds
    crowd = [HelloMember(port, deadline) for _ in range(count)]
    for member in crowd:
        member.start()
    for member in crowd:
        member.join(timeout=seconds + 60)
    return crowd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=15.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exchange-load-") as tmp:
        instance, cookies, thread_id, alert_id = prepare(Path(tmp) / "instance", args.members)
        env = instance.env
        with serving(
            "_hello:app", {**env, "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}"}, probe_path="/hello"
        ) as hello:
            baseline = run_hello(hello.port, args.members, args.baseline_seconds)
        with serving("forum:create_app()", env, probe_path="/healthz") as server:
            crowd = run_members(server.port, cookies, thread_id, alert_id, args.seconds)

    statuses: Counter[int] = Counter()
    per_action: dict[str, list[float]] = defaultdict(list)
    for member in crowd:
        statuses.update(member.statuses)
        for action, values in member.latencies.items():
            per_action[action].extend(values)
    everything = [value for values in per_action.values() for value in values]
    hello_latencies = [value for member in baseline for value in member.latencies]
    errors = sum(count for status, count in statuses.items() if status >= 500)
    print(
        f"{args.members} members for {args.seconds:.0f}s: {len(everything)} requests, "
        f"{len(everything) / args.seconds:.1f}/s; statuses {dict(sorted(statuses.items()))}; server errors {errors}"
    )
    for action, _ in ACTIONS:
        values = per_action.get(action, [])
        print(
            f"  {action:12s} n={len(values):6d}  p50 {median(values):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms"
        )
    figure(
        f"load: p50 latency, {args.members} members mixed",
        median(everything),
        f"bare hello p50, {args.members} clients",
        median(hello_latencies),
        "ms",
        higher_is_better=False,
    )
    figure(
        f"load: p99 latency, {args.members} members mixed",
        percentile(everything, 0.99),
        f"bare hello p99, {args.members} clients",
        percentile(hello_latencies, 0.99),
        "ms",
        higher_is_better=False,
    )
    figure(
        f"load: requests per second, {args.members} members mixed",
        len(everything) / args.seconds,
        f"bare hello, {args.members} clients",
        len(hello_latencies) / args.baseline_seconds,
        "req/s",
    )
    figure(
        "load: server errors",
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
