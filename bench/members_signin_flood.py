"""A flood of wrong passwords for one address must not slow other members' pages: the rate
limit is decided before the Argon2id hash (about 0.1 s a check), so refused attempts cost the
server almost nothing. Measured against the same member's page latency without a flood, in the
same run; then once more with rate limiting switched off, to show what the limit protects.

Run: python bench/members_signin_flood.py   (about 60 s; loopback only; stops what it starts)
"""

from __future__ import annotations

import http.client
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    HOST,
    latencies_ms,
    median,
    percentile,
    prepare_instance,
    serving,
    session_cookie,
)
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.members import services  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402

SECONDS = 4.0
# The first attempts of a flood are allowed (6 a minute per address, per gunicorn worker with
# in-memory limits); they are hashed. Wait at most this long for the allowance to be spent.
ALLOWANCE_WAIT_SECONDS = 20.0
MAX_FLOOD_SECONDS = 45.0
FLOOD_THREADS = 6
TARGET = "flooded@example.org"


def _sign_in_session(port: int) -> tuple[str, str]:
    """A fresh anonymous browser session: its cookie and its CSRF token."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", "/sign-in")
        response = conn.getresponse()
        body = response.read().decode("utf-8")
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
    finally:
        conn.close()
    token = re.search(r'name="csrf-token" content="([^"]+)"', body)
    if not token or not cookie:
        raise RuntimeError("the sign-in page gave no session cookie or CSRF token")
    return cookie, token.group(1)


def flood(
    port: int,
    seconds: float,
    stats: Counter[int],
    times: dict[int, list[float]],
    stop: threading.Event,
) -> None:
    """Wrong passwords for one address from FLOOD_THREADS threads, until stopped (bounded)."""
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        cookie, token = _sign_in_session(port)
        body = f"csrf_token={token}&email={TARGET}&password=wrong+password+guess"
        headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        mine: Counter[int] = Counter()
        spent: dict[int, list[float]] = {}
        try:
            while (
                not stop.is_set() and time.monotonic() < deadline and sum(mine.values()) < 100_000
            ):
                started = time.perf_counter()
                conn.request("POST", "/sign-in", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                spent.setdefault(response.status, []).append((time.perf_counter() - started) * 1000)
                mine[response.status] += 1
                with lock:
                    stats[response.status] += 1
        finally:
            conn.close()
        with lock:
            for status, values in spent.items():
                times.setdefault(status, []).extend(values)

    threads = [threading.Thread(target=worker) for _ in range(FLOOD_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)


def run(ratelimit_enabled: bool) -> dict[str, float]:
    """Median and p99 page latency of another member, alone and during a flood."""
    with tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
        instance = prepare_instance(Path(tmp) / "instance", ratelimit_enabled=ratelimit_enabled)
        app = instance.app()
        with app.app_context():
            password_hash = hash_password("a long bench password 2026")
            services.create_member(email=TARGET, name="Flooded", password_hash=password_hash)
            other = services.create_member(
                email="bystander@example.org", name="Bystander", password_hash=password_hash
            )
            db.session.commit()
            cookie = session_cookie(app, other)
            db.engine.dispose()
        headers = {"Cookie": cookie}
        with serving("forum:create_app()", instance.env, probe_path="/sign-in") as server:
            latencies_ms(server.port, "/members", headers, seconds=1.0)  # warm up
            alone = latencies_ms(server.port, "/members", headers, seconds=SECONDS)
            stats: Counter[int] = Counter()
            times: dict[int, list[float]] = {}
            stop = threading.Event()
            flooding = threading.Thread(
                target=flood, args=(server.port, MAX_FLOOD_SECONDS, stats, times, stop)
            )
            flooding.start()
            # Measure the sustained flood: once the address's allowance is spent (the first few
            # attempts per worker are hashed), or after a bounded wait when limits are off.
            waited = time.monotonic() + ALLOWANCE_WAIT_SECONDS
            while time.monotonic() < waited and (not ratelimit_enabled or stats[429] < 20):
                time.sleep(0.1)
            during = latencies_ms(server.port, "/members", headers, seconds=SECONDS)
            stop.set()
            flooding.join(timeout=MAX_FLOOD_SECONDS + 60)
    label = "limits on" if ratelimit_enabled else "limits off"
    print(
        f"[{label}] flood answers: {dict(stats)}; median ms by status: "
        + ", ".join(f"{s}: {median(v):.1f}" for s, v in sorted(times.items()))
    )
    return {
        "alone_p50": median(alone),
        "alone_p99": percentile(alone, 0.99),
        "during_p50": median(during),
        "during_p99": percentile(during, 0.99),
        "refused_ms": median(times.get(429, [])),
        "checked_ms": median(times.get(422, [])),
    }


def main() -> None:
    on = run(True)
    off = run(False)
    figure(
        "members: bystander page p50 during a wrong-password flood (limits on)",
        on["during_p50"],
        "same page, no flood",
        on["alone_p50"],
        "ms",
        goal="close to 1x",
        higher_is_better=False,
    )
    figure(
        "members: bystander page p99 during a wrong-password flood (limits on)",
        on["during_p99"],
        "same page, no flood",
        on["alone_p99"],
        "ms",
        higher_is_better=False,
    )
    figure(
        "members: bystander page p50 during the same flood with limits off",
        off["during_p50"],
        "same page, no flood",
        off["alone_p50"],
        "ms",
        higher_is_better=False,
    )
    figure(
        "members: a refused (429) sign-in attempt",
        on["refused_ms"],
        "a checked (Argon2id) wrong password",
        on["checked_ms"] if on["checked_ms"] == on["checked_ms"] else off["checked_ms"],
        "ms",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
