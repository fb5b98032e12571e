"""Password checks: what one Argon2id check costs, and that a flood of wrong passwords for one
address does not slow other members' pages — because the sign-in rate limits (6 a minute per
address, 30 a minute per client) are decided before the hash is computed.

The flood and the member's clicks both come from 127.0.0.1 (X-Forwarded-For is not trusted), so
the limit that stops the flood is the one keyed on the address's blind index. For contrast the
same flood runs against a second server with rate limits switched off.

A flood is also concurrent traffic, and any traffic shares the CPU with the member's page; so the
fair baseline for "does not slow other members" is the same page under the same number of
connections loading an ordinary page (the sign-in form), measured in the same run.

Run: python bench/foundation_passwords.py   (about 90 s; loopback only; stops what it starts)
"""

from __future__ import annotations

import http.client
import os
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    HOST,
    THREADS,
    WORKERS,
    Instance,
    latencies_ms,
    median,
    percentile,
    prepare_instance,
    serving,
    session_cookie,
)
from figures import figure  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.members import services  # noqa: E402
from forum.members.passwords import hash_password, verify_password  # noqa: E402
from forum.security.audit import AuditEvent  # noqa: E402

PASSWORD = "a long bench password 2026"  # noqa: S105 - a throwaway bench account
VICTIM = "victim@example.org"
MEMBER = "reader@example.org"
FLOODERS = 4
MEASURE_SECONDS = 4.0
TRIP_WAIT_SECONDS = 15.0
SETTLE_SECONDS = 2.0
MAX_FLOOD_REQUESTS = 20_000
CSRF_FIELD = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def argon2_seconds(rounds: int = 8) -> tuple[float, float]:
    """Median wall-clock and CPU time of one Argon2id check of a wrong password."""
    stored = hash_password(PASSWORD)
    wall, cpu = [], []
    for _ in range(rounds):
        started, used = time.perf_counter(), time.process_time()
        verify_password(stored, "not the password at all")
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
    return median(wall), median(cpu)


def setup(instance: Instance) -> tuple[str, str]:
    """A victim account and a reading member; returns the reader's cookie and the sign-in path."""
    app = instance.app()
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        organisation = services.get_or_create_organisation("Bench NGO", "BE", "ngo")
        for email in (VICTIM, MEMBER):
            services.create_member(
                email=email,
                name=email.split("@")[0].title(),
                password_hash=password_hash,
                organisation=organisation,
                country="BE",
            )
        db.session.commit()
        cookie = session_cookie(app, services.find_member_by_email(MEMBER))
        path = app.url_map.bind("localhost").build("members.sign_in")
        db.engine.dispose()
    return cookie, path


def lockouts(instance: Instance) -> tuple[int, int]:
    """Audit rows the flood left: failed sign-ins (each one a hash) and lockouts."""
    app = instance.app()
    with app.app_context():
        counts = dict(
            db.session.execute(
                select(AuditEvent.action, func.count()).group_by(AuditEvent.action)
            ).all()
        )
        db.engine.dispose()
    return counts.get("sign_in.failed", 0), counts.get("sign_in.locked_out", 0)


class Tally:
    """Answers the flood got so far, shared by the flooding threads."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def add(self, status: int) -> None:
        with self.lock:
            self.statuses[status] += 1

    def snapshot(self) -> Counter[int]:
        with self.lock:
            return Counter(self.statuses)


def flooder(
    port: int, path: str, stop: threading.Event, tally: Tally, *, post: bool = True
) -> None:
    """On one keep-alive connection until stopped: post wrong passwords for the victim's address
    (post=True), or only load the sign-in page (ordinary traffic of the same concurrency)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        page = response.read().decode()
        cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
        match = CSRF_FIELD.search(page)
        if not match:
            raise RuntimeError("the sign-in page carries no csrf_token field")
        token = match.group(1) or match.group(2)
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        sent = 0
        while not stop.is_set() and sent < MAX_FLOOD_REQUESTS:
            if post:
                body = urlencode(
                    {"csrf_token": token, "email": VICTIM, "password": f"guess {sent}"}
                )
                conn.request("POST", path, body=body, headers=headers)
            else:
                conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            tally.add(response.status)
            sent += 1
    finally:
        conn.close()


def under_background(
    port: int, path: str, headers: dict[str, str], *, post: bool, trip: bool
) -> tuple[list[float], Tally, float, float]:
    """The member's latency while FLOODERS connections run; waits for the limit to trip first."""
    stop = threading.Event()
    tally = Tally()
    threads = [
        threading.Thread(target=flooder, args=(port, path, stop, tally), kwargs={"post": post})
        for _ in range(FLOODERS)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        # The first attempts per address (6 a minute in each worker process) are hashed; wait
        # until the limit has tripped, then measure the member during the sustained flood.
        deadline = started + (TRIP_WAIT_SECONDS if trip else SETTLE_SECONDS)
        while time.monotonic() < deadline and (not trip or tally.snapshot()[429] < FLOODERS):
            time.sleep(0.05)
        waited = time.monotonic() - started
        before = sum(tally.snapshot().values())
        during = latencies_ms(port, "/", headers, seconds=MEASURE_SECONDS)
        rate = (sum(tally.snapshot().values()) - before) / MEASURE_SECONDS
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return during, tally, waited, rate


def _line(label: str, values: list[float]) -> str:
    return (
        f"{label} p50 {median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms "
        f"({len(values)} requests)"
    )


def run(instance: Instance, label: str, *, limited: bool) -> dict[str, float]:
    """The member's start page alone, under ordinary load, and during a flood of wrong passwords."""
    cookie, path = setup(instance)
    headers = {"Cookie": cookie}
    result: dict[str, float] = {}
    with serving("forum:create_app()", instance.env, probe_path=path) as server:
        latencies_ms(server.port, "/", headers, seconds=1.0)  # warm up
        alone = latencies_ms(server.port, "/", headers, seconds=MEASURE_SECONDS)
        result.update(alone_p50=median(alone), alone_p95=percentile(alone, 0.95))
        if limited:
            ordinary, _, _, rate = under_background(
                server.port, path, headers, post=False, trip=False
            )
            result.update(ordinary_p50=median(ordinary), ordinary_p95=percentile(ordinary, 0.95))
            print(f"\n[{label}] {FLOODERS} connections loading the sign-in page: {rate:.0f} req/s")
            print(f"[{label}] start page {_line('under that ordinary load', ordinary)}")
        during, tally, waited, rate = under_background(
            server.port, path, headers, post=True, trip=limited
        )
    statuses = tally.snapshot()
    failed, locked = lockouts(instance)
    total = sum(statuses.values())
    print(
        f"\n[{label}] flood: {total} wrong passwords for one address from {FLOODERS} "
        f"connections; answers {dict(sorted(statuses.items()))}; audit rows: {failed} failed "
        f"sign-ins (each one Argon2id check), {locked} lockouts"
    )
    print(
        f"[{label}] {'the limit tripped after' if limited else 'measured after'} {waited:.1f} s; "
        f"flood rate while the member was measured: {rate:.0f} attempts/s"
    )
    print(f"[{label}] start page {_line('alone', alone)}")
    print(f"[{label}] start page {_line('during the flood', during)}")
    result.update(
        during_p50=median(during),
        during_p95=percentile(during, 0.95),
        flood=total,
        hashed=failed,
        refused=statuses.get(429, 0),
    )
    return result


def main() -> None:
    check, check_cpu = argon2_seconds()
    print(
        f"Argon2id: one check of a wrong password takes {check * 1000:.1f} ms wall-clock, "
        f"{check_cpu * 1000:.1f} ms of CPU (median of 8; argon2-cffi RFC 9106 low-memory profile)"
    )
    print(f"gunicorn gthread, {WORKERS} workers x {THREADS} threads; rate-limit storage: memory")
    print(
        f"machine load average (1 min) at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="bench-passwords-") as tmp:
        limited = run(prepare_instance(Path(tmp) / "limited"), "limits on", limited=True)
        unlimited = run(
            prepare_instance(Path(tmp) / "unlimited", ratelimit_enabled=False),
            "limits off",
            limited=False,
        )
    print()
    figure(
        "password: one Argon2id check (CPU time)",
        check_cpu * 1000,
        "a signed-in start page (p50, alone)",
        limited["alone_p50"],
        "ms",
        higher_is_better=False,
    )
    figure(
        "flood, limits on: start page p50 during the sustained flood",
        limited["during_p50"],
        f"the same page under {FLOODERS} connections of ordinary traffic",
        limited["ordinary_p50"],
        "ms",
        goal="about 1x",
        higher_is_better=False,
    )
    figure(
        "flood, limits on: start page p95 during the sustained flood",
        limited["during_p95"],
        f"the same page under {FLOODERS} connections of ordinary traffic",
        limited["ordinary_p95"],
        "ms",
        higher_is_better=False,
    )
    figure(
        "flood, limits on: start page p50 during the sustained flood (vs alone)",
        limited["during_p50"],
        "the same page alone",
        limited["alone_p50"],
        "ms",
        higher_is_better=False,
    )
    figure(
        "flood, limits on: wrong passwords that reached Argon2id",
        limited["hashed"],
        "wrong passwords sent",
        limited["flood"],
        "requests",
        higher_is_better=False,
    )
    figure(
        "flood, limits off (contrast): start page p50 during the flood",
        unlimited["during_p50"],
        "the same page alone",
        unlimited["alone_p50"],
        "ms",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
