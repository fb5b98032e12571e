"""Shared helpers for the benchmarks: a prepared instance folder, gunicorn on a free loopback
port, a signed-in cookie, and bounded load generators (wrk when installed, else a Python client).

Install wrk for HTTP load (`sudo apt-get install -y wrk`): a C client takes far less of the
machine than the Python fallback, which on two cores takes CPU from the server it measures.

Every served figure carries the server's CPU per request and its split across workers
(read from /proc before and after each run), so a run where one worker took every connection
shows as "100/0" rather than as a slow page. gunicorn binds one SO_REUSEPORT socket per worker
(`--reuse-port`), so the kernel spreads connections across workers instead of the first
worker to wake up accepting them all.

Everything runs on 127.0.0.1, every loop is bounded in time and count, and every process a
benchmark starts is stopped by its pid.
"""

from __future__ import annotations

import http.client
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from forum import create_app  # noqa: E402 - the project root must be importable first
from forum.crypto.envelope import ensure_keyring_matches  # noqa: E402
from forum.crypto.keyring import create_keyring  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.sessions import SESSION_KEY, start_session  # noqa: E402

HOST = "127.0.0.1"
# The same gunicorn shape for every target of a run, so ratios compare like with like.
WORKERS = 2
THREADS = 8
# Page benches serve every target with sync workers (no threads, no keep-alive): measured in
# bench/threads_page.py, no more CPU a request than gthread 2 x 8 and no threads sharing a GIL.
# Benches of the live channel keep gthread (or asgi): a held stream needs a thread or a loop.
PAGE_WORKER_CLASS = "sync"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Instance:
    """An instance folder with a keyring, a config file and an empty SQLite database."""

    folder: Path
    config_path: Path

    @property
    def env(self) -> dict[str, str]:
        """Environment for a process that serves this instance."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
        env.update(EXCHANGE_CONFIG=str(self.config_path), PYTHONPATH=str(ROOT))
        return env

    def app(self) -> Flask:
        """The application of this instance, in this process."""
        return create_app(config_path=self.config_path)


def prepare_instance(
    folder: Path, *, ratelimit_enabled: bool = True, database_url: str | None = None
) -> Instance:
    """Create a keyring, a config file and the database tables in `folder` (SQLite there, or
    the empty database `database_url` names: bench/_postgres.py's fresh_database)."""
    folder.mkdir(parents=True, exist_ok=True)
    create_keyring(folder / "keyring.json")
    config_path = folder / "exchange.toml"
    config_path.write_text(
        "\n".join(
            [
                "[app]",
                f'secret_key = "{secrets.token_urlsafe(48)}"',
                f'instance_path = "{folder}"',
                'log_level = "WARNING"',
                "[database]",
                f'url = "{database_url or "sqlite:///" + str(folder / "exchange.db")}"',
                "[security]",
                "cookie_secure = false",
                f"ratelimit_enabled = {'true' if ratelimit_enabled else 'false'}",
                "[scheduler]",
                "enabled = false",
                "",
            ]
        ),
        encoding="utf-8",
    )
    instance = Instance(folder, config_path)
    app = create_app(config_path=config_path, check_keyring=False)
    with app.app_context():
        db.create_all()
        ensure_keyring_matches()
        db.session.commit()
        db.engine.dispose()
    return instance


# The alert every raise bench sends: a drill, in Belgium, whose audience is everyone in BE.
DRILL = {
    "kind": "attack",
    "severity": "critical",
    "title": "Benchmark drill",
    "city": "Brussels",
    "country": "BE",
    "occurred_at": "2026-11-28T12:00",
    "needs": "Nothing: a benchmark",
}
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def drill_form(client: Any, **changes: str) -> dict[str, str]:
    """The raise form as a signed-in test client would post it: DRILL with the page's token."""
    page = client.get("/alerts/new").get_data(as_text=True)
    found = CSRF_META.search(page)
    assert found is not None, "the raise page carries no CSRF token (signed out?)"
    return {**DRILL, **changes, "csrf_token": found.group(1)}


def session_cookie(app: Flask, member: object) -> str:
    """A Cookie header value for a real server session of this member, as a browser holds it
    after its first page: with the session's CSRF token in it (wrk sends the same cookie on
    every request and never takes a new one, so without the token every page would make one
    and answer with a new cookie, which no browser keeps doing)."""
    token = start_session(member)  # type: ignore[arg-type]
    db.session.commit()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    csrf_field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    value = serializer.dumps(
        {SESSION_KEY: token, "_permanent": True, csrf_field: secrets.token_hex(20)}
    )
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


@dataclass
class Server:
    """A gunicorn master on a loopback port; stop() ends it (and its workers) by pid."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        """The pids of the master's worker processes, in pid order."""
        return child_pids(self.process.pid)

    def worker_cpu(self) -> dict[int, float]:
        """CPU seconds (user + system) each worker has used so far."""
        return {pid: cpu_seconds(pid) for pid in self.worker_pids()}

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def child_pids(pid: int) -> list[int]:
    """The pids of a process's children (from /proc; no psutil), in pid order."""
    found: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.update(int(c) for c in (task / "children").read_text().split())
        return sorted(found)
    except OSError:  # a kernel without the children file: scan every process's parent
        pass
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return sorted(found)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    try:
        # The command name (field 2) may hold spaces; the fields after its ')' start at field 3.
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_split(before: dict[int, float], after: dict[int, float]) -> tuple[float, str]:
    """Worker CPU seconds used between two samples, and each worker's share ("52/48")."""
    used = {pid: after[pid] - before.get(pid, 0.0) for pid in sorted(after)}
    total = sum(used.values())
    if total <= 0:
        return 0.0, "/".join("0" for _ in used)
    return total, "/".join(f"{100 * seconds / total:.0f}" for seconds in used.values())


def listening_sockets(port: int) -> int:
    """How many TCP sockets listen on this loopback port (one a worker with SO_REUSEPORT)."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return 1
    wanted = f":{port:04X}"
    return sum(1 for line in lines if line.split()[1].endswith(wanted) and line.split()[3] == "0A")


def start_gunicorn(
    app_spec: str,
    env: dict[str, str],
    *,
    probe_path: str = "/",
    workers: int = WORKERS,
    threads: int = THREADS,
    worker_class: str = "gthread",
    reuse_port: bool = True,
) -> Server:
    """Serve `module:app` (or 'forum:create_app()') with gunicorn on a free loopback port.

    worker_class="gthread" (the default) runs `threads` threads a worker: what the live channel
    needs. worker_class="sync" runs one request at a time a worker, no keep-alive, no threads:
    what a page bench compares like with like. worker_class="asgi" with
    'forum.ops.asgi:create_asgi()' serves the Exchange as deployed. `reuse_port` gives every
    worker its own SO_REUSEPORT socket, so the kernel balances connections across workers.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--worker-class",
        worker_class,
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "--keep-alive",
        "5",
    ]
    if worker_class != "sync":  # gunicorn turns sync with --threads > 1 into gthread
        command += ["--threads", str(threads)]
    if reuse_port:
        command.append("--reuse-port")
    process = subprocess.Popen([*command, app_spec], cwd=ROOT, env=env)
    server = Server(process, port)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn for {app_spec} exited with {process.returncode}")
        try:
            status, _ = request(port, "GET", probe_path)
            # With reuse_port every worker binds its own socket once it has loaded the app:
            # wait for all of them, or the first connections would all go to the first one.
            expected = workers if reuse_port else 1
            if status < 500 and listening_sockets(port) >= expected:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn for {app_spec} did not answer within {START_TIMEOUT_SECONDS}s")


@contextmanager
def serving(
    app_spec: str,
    env: dict[str, str],
    probe_path: str = "/",
    *,
    worker_class: str = "gthread",
    threads: int = THREADS,
    workers: int = WORKERS,
) -> Iterator[Server]:
    """gunicorn for the duration of a with-block, stopped by pid afterwards."""
    server = start_gunicorn(
        app_spec,
        env,
        probe_path=probe_path,
        worker_class=worker_class,
        threads=threads,
        workers=workers,
    )
    try:
        yield server
    finally:
        server.stop()


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    """One HTTP request on loopback; returns status and body."""
    conn = connection or http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if connection is None:
            conn.close()


@dataclass
class LoadResult:
    """Throughput and latency of a bounded load run against one path."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    statuses: Counter[int] = field(default_factory=Counter)
    tool: str = "python"
    # Filled by load() when given a Server: the workers' CPU (user + system) per request, each
    # worker's share of it ("52/48"; "100/0" is a pinned run), and the client's CPU in cores.
    cpu_ms_per_request: float = float("nan")
    cpu_split: str = ""
    client_cores: float = float("nan")
    # Cores the rest of the machine used meanwhile (not these workers, not this client):
    # about 0 on a quiet machine; more means the figure was measured against other work.
    other_cores: float = float("nan")


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _wrk_ms(text: str, label: str) -> float:
    match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    return float(match.group(1)) * _WRK_UNITS[match.group(2)] if match else float("nan")


def wrk_load(
    port: int, path: str, headers: dict[str, str], seconds: float, connections: int
) -> LoadResult:
    """Load a path with wrk (C, keep-alive) for a bounded time."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, int(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://{HOST}:{port}{path}")
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=True
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    statuses: Counter[int] = Counter({200: total - (int(bad.group(1)) if bad else 0)})
    if bad:
        statuses[0] = int(bad.group(1))  # wrk does not say which codes
    return LoadResult(rps, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"), total, statuses, "wrk")


def python_load(
    port: int, path: str, headers: dict[str, str], seconds: float, connections: int
) -> LoadResult:
    """Load a path from `connections` threads, each with one keep-alive connection, for a bounded time."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        mine: list[float] = []
        codes: Counter[int] = Counter()
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            while time.monotonic() < deadline and len(mine) < 1_000_000:
                started = time.perf_counter()
                status, _ = request(port, "GET", path, headers, connection=conn)
                mine.append(time.perf_counter() - started)
                codes[status] += 1
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.monotonic() - started
    ordered = sorted(latencies) or [float("nan")]
    return LoadResult(
        len(latencies) / elapsed,
        ordered[len(ordered) // 2] * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        len(latencies),
        statuses,
        "python",
    )


def machine_cpu() -> float:
    """CPU seconds every process on the machine has used since boot (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS  # all but idle and iowait


def client_cpu() -> float:
    """CPU seconds used so far by this process and its waited-for children (wrk)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def load(
    target: Server | int,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    seconds: float = 3.0,
    connections: int = 16,
) -> LoadResult:
    """A bounded load run: wrk when it is installed (it costs the server less CPU), else Python.

    Given a Server (not just a port), the result also carries the workers' CPU per request and
    its split across workers, and the client's own CPU.
    """
    server = target if isinstance(target, Server) else None
    port = target.port if isinstance(target, Server) else target
    before = server.worker_cpu() if server else {}
    machine_before, client_before, started = machine_cpu(), client_cpu(), time.monotonic()
    if shutil.which("wrk"):
        result = wrk_load(port, path, headers or {}, seconds, connections)
    else:
        result = python_load(port, path, headers or {}, seconds, connections)
    elapsed = time.monotonic() - started
    client_used = client_cpu() - client_before
    result.client_cores = client_used / elapsed
    if server:
        used, result.cpu_split = cpu_split(before, server.worker_cpu())
        result.cpu_ms_per_request = used * 1000 / result.requests if result.requests else 0.0
        other = machine_cpu() - machine_before - used - client_used
        result.other_cores = max(0.0, other / elapsed)
    return result


def served_keys(target: list[LoadResult], baseline: list[LoadResult]) -> dict[str, object]:
    """Extra FIGURE keys for a served figure: req/s ranges over rounds, CPU ms/request, splits."""

    def keys(prefix: str, rounds: list[LoadResult]) -> dict[str, object]:
        rps = [r.requests_per_second for r in rounds]
        return {
            f"{prefix}range": [min(rps), max(rps)] if rps else [],
            f"{prefix}cpu_ms_per_request": median([r.cpu_ms_per_request for r in rounds]),
            f"{prefix}cpu_split": " ".join(r.cpu_split for r in rounds),
            f"{prefix}other_cores": max((r.other_cores for r in rounds), default=float("nan")),
        }

    return {**keys("", target), **keys("baseline_", baseline)}


def latencies_ms(
    port: int, path: str, headers: dict[str, str], *, seconds: float, max_requests: int = 5000
) -> list[float]:
    """Sequential requests on one keep-alive connection, as one member clicking through pages."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    found: list[float] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline and len(found) < max_requests:
            started = time.perf_counter()
            status, _ = request(port, "GET", path, headers, connection=conn)
            found.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{path} answered {status} during a latency probe")
    finally:
        conn.close()
    return found


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else float("nan")


def median(values: list[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")
