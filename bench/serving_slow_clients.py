"""A bystander's page while one machine holds 1,000 half-open connections or 1,000 live pages.

Issue 9 item 6: headers sent a byte at a time, or one member's live streams, used to take every
thread of the serving process. Served twice in one run, as deployed: the embedded default
(`exchange serve`: one ASGI worker, scheduler inside) and scaled out (gunicorn with
deploy/gunicorn.conf.py, two workers). For each, a bystander (another signed-in member) loads a
page on a new connection PROBES times with:
  1. no attack (the baseline of the ratios);
  2. 1,000 half-open connections (request line and part of a header, then a byte every 2 s);
  3. 1,000 live pages of ONE member (5 are kept, the rest refused with 204, so they poll);
  4. 1,000 live pages of 200 members (5 each; all are held open on the event loop);
  5. both at once: 1,000 half-open connections and 1,000 live pages (2,000 sockets).
Goal: p95 under 1 s and within 2x of no attack. The attacker runs in its own process (this
script with --attack), so its work never slows the probing client. Loopback only; bounded
(counts and time limits); every process started here is stopped by its pid.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402

from bench._common import (  # noqa: E402
    HOST,
    ROOT,
    Server,
    free_port,
    percentile,
    prepare_instance,
    request,
    session_cookie,
)
from bench.figures import figure  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from tests.alerts.bulk import bulk_members  # noqa: E402

ATTACK = int(os.environ.get("SERVING_BENCH_CONNECTIONS", "1000"))
MEMBERS = 200
PROBES = 60
PROBE_TIMEOUT = 5.0
PATH = "/threads"
TIME_LIMIT = 240.0


def _wait_until_up(server: Server, cookie: str) -> Server:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}")
        try:
            if request(server.port, "GET", PATH, {"Cookie": cookie})[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("the server did not answer")


def embedded(config: Path, env: dict[str, str], cookie: str) -> Server:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own program, loopback only
        [sys.executable, "-m", "forum.cli", "--config", str(config), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _wait_until_up(Server(process, port), cookie)


def scaled_out(env: dict[str, str], cookie: str) -> Server:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own program, loopback only
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _wait_until_up(Server(process, port), cookie)


def probe(port: int, cookie: str) -> list[float]:
    """The bystander: PROBES page loads, each on a new connection; a timeout counts as 5 s."""
    found = []
    for _ in range(PROBES):
        started = time.perf_counter()
        try:
            status, _ = request(port, "GET", PATH, {"Cookie": cookie})
            if status != 200:
                raise RuntimeError(f"the bystander's page answered {status}")
            found.append((time.perf_counter() - started) * 1000)
        except TimeoutError:
            found.append(PROBE_TIMEOUT * 1000)
    return found


def half_open(port: int) -> list[socket.socket]:
    held = []
    for _ in range(ATTACK):
        sock = socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        held.append(sock)
    for sock in held:
        sock.sendall(b"a")
    return held


def _trickle(held: list[socket.socket], stop: threading.Event) -> None:
    """One more header byte on every half-open connection each second (never the end)."""
    while not stop.wait(2.0):
        for sock in held:
            try:
                sock.send(b"a")
            except OSError:
                pass


def live_pages(port: int, cookies: list[str], statuses: Counter[int]) -> list[socket.socket]:
    held = []
    for n in range(ATTACK):
        sock = socket.create_connection((HOST, port), timeout=PROBE_TIMEOUT)
        cookie = cookies[n % len(cookies)]
        sock.sendall(
            f"GET /live/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n".encode()
        )
        line = sock.recv(64).split(b"\r\n", 1)[0]
        statuses[int(line.split()[1])] += 1
        held.append(sock)
    return held


ATTACKER_SECONDS = 120  # an attacker process ends by itself after this, whatever happens


def attacker(kind: str, port: int, cookies_file: str) -> None:
    """The attacking client, in its own process (its own GIL: it never slows the probe down).
    Opens the connections, prints the live statuses as JSON, then holds and trickles until its
    standard input closes (or ATTACKER_SECONDS pass)."""
    cookies = json.loads(Path(cookies_file).read_text())
    statuses: Counter[int] = Counter()
    held: list[socket.socket] = []
    if kind in ("half-open", "half-open + live"):
        held += half_open(port)
    if kind == "live, one member":
        held += live_pages(port, [cookies["greedy"]], statuses)
    if kind in ("live, 200 members", "half-open + live"):
        held += live_pages(port, cookies["crowd"], statuses)
    print(json.dumps({str(k): v for k, v in statuses.items()}), flush=True)
    stop = threading.Event()
    threading.Timer(ATTACKER_SECONDS, stop.set).start()
    trickle = threading.Thread(target=_trickle, args=(held, stop), daemon=True)
    if kind.startswith("half-open"):
        trickle.start()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    for sock in held:
        sock.close()
    os._exit(0)  # the Timer thread must not keep this process alive


ATTACKS = ("half-open", "live, one member", "live, 200 members", "half-open + live")


def measure(
    server: Server, bystander: str, cookies_file: Path
) -> tuple[dict[str, list[float]], dict[str, object]]:
    probe(server.port, bystander)  # warm-up, not counted
    figures: dict[str, list[float]] = {"none": probe(server.port, bystander)}
    statuses: dict[str, object] = {}
    for name in ATTACKS:
        child = subprocess.Popen(  # noqa: S603 - this very script, loopback only
            [sys.executable, __file__, "--attack", name, str(server.port), str(cookies_file)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            statuses[name] = json.loads(child.stdout.readline() or "{}")
            time.sleep(1.0)  # the attack in its steady state
            figures[name] = probe(server.port, bystander)
        finally:
            if child.stdin is not None:
                child.stdin.close()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(timeout=5)
        time.sleep(1.0)
    figures["none, again"] = probe(server.port, bystander)  # the noise floor of this machine
    return figures, {"one": statuses["live, one member"], "many": statuses["live, 200 members"]}


def report(shape: str, figures: dict[str, list[float]], statuses: dict[str, object]) -> None:
    """One line per attack; the baseline is both no-attack runs, before and after, pooled."""
    base = percentile(figures["none"] + figures["none, again"], 0.95)
    print(f"\n{shape}: bystander GET {PATH}, {PROBES} loads on new connections each")
    print(f"  {'no attack (before + after)':<30} p95 {base:7.1f} ms")
    labels = {
        "none": "no attack, before",
        "none, again": "no attack, after",
        "half-open": f"{ATTACK} half-open",
        "live, one member": f"{ATTACK} live, one member",
        "live, 200 members": f"{ATTACK} live, 200 members",
        "half-open + live": f"{ATTACK} half-open + {ATTACK} live",
    }
    for name, label in labels.items():
        p95 = percentile(figures[name], 0.95)
        worst = max(figures[name])
        verdict = ""
        if not name.startswith("none"):
            verdict = "  goal met" if p95 < 1000 and p95 <= 2 * base else "  GOAL MISSED"
        print(f"  {label:<30} p95 {p95:7.1f} ms  max {worst:7.1f} ms  x{p95 / base:4.2f}{verdict}")
    for name, label in labels.items():
        if not name.startswith("none"):
            figure(
                f"{shape.split(' (')[0]}: bystander p95 with {label}",
                percentile(figures[name], 0.95),
                "no attack p95",
                base,
                "ms",
                goal="< 1 s and within 2x",
                higher_is_better=False,
            )
    print(f"  live pages of one member: {statuses['one']}; of 200 members: {statuses['many']}")


def main() -> None:
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    instance = prepare_instance(folder, ratelimit_enabled=False)
    with instance.config_path.open("a", encoding="utf-8") as config:
        config.write("[server]\nlive_heartbeat_seconds = 5\n")
    env = {**instance.env, "PYTHONPATH": str(ROOT)}
    app = instance.app()
    with app.app_context():
        flask_migrate.stamp()  # the tables exist: `exchange serve` finds nothing to migrate
        members = bulk_members(MEMBERS + 2, hash_password("bench password 0123456789"))
        db.session.commit()
        cookies = [session_cookie(app, m) for m in members]
        db.session.remove()
        db.engine.dispose()
    bystander = cookies[0]
    cookies_file = folder / "cookies.json"
    cookies_file.write_text(json.dumps({"greedy": cookies[1], "crowd": cookies[2:]}))
    print(f"{ATTACK} connections per attack, one machine, loopback; cap 5 streams per member")
    for shape, start in (
        (
            "embedded default (exchange serve)",
            lambda: embedded(instance.config_path, env, bystander),
        ),
        (
            "scaled out (gunicorn, deploy/gunicorn.conf.py, 2 workers)",
            lambda: scaled_out(env, bystander),
        ),
    ):
        if time.monotonic() - started > TIME_LIMIT:
            print(f"\n{shape}: skipped (time limit)")
            continue
        server = start()
        try:
            report(shape, *measure(server, bystander, cookies_file))
        finally:
            server.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--attack"]:
        attacker(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
