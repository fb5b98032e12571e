"""Shared helpers for the benchmarks: a prepared instance folder, gunicorn on a free loopback
port, a signed-in cookie, and bounded load generators (wrk when installed, else a Python client).

Everything runs on 127.0.0.1, every loop is bounded in time and count, and every process a
benchmark starts is stopped by its pid.
"""

from __future__ import annotations

import http.client
import os
import re
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


def prepare_instance(folder: Path, *, ratelimit_enabled: bool = True) -> Instance:
    """Create a keyring, a config file and the database tables in `folder`."""
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
                f'url = "sqlite:///{folder / "exchange.db"}"',
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


def session_cookie(app: Flask, member: object) -> str:
    """A Cookie header value for a real server session of this member (as after sign-in)."""
    token = start_session(member)  # type: ignore[arg-type]
    db.session.commit()
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    value = serializer.dumps({SESSION_KEY: token, "_permanent": True})
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


@dataclass
class Server:
    """A gunicorn master on a loopback port; stop() ends it (and its workers) by pid."""

    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def start_gunicorn(
    app_spec: str,
    env: dict[str, str],
    *,
    probe_path: str = "/",
    workers: int = WORKERS,
    threads: int = THREADS,
    worker_class: str = "gthread",
) -> Server:
    """Serve `module:app` (or 'forum:create_app()') with gunicorn gthread on a free loopback port
    (worker_class="asgi" with 'forum.ops.asgi:create_asgi()' serves the Exchange as deployed)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            worker_class,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "5",
            app_spec,
        ],
        cwd=ROOT,
        env=env,
    )
    server = Server(process, port)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn for {app_spec} exited with {process.returncode}")
        try:
            status, _ = request(port, "GET", probe_path)
            if status < 500:
                return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn for {app_spec} did not answer within {START_TIMEOUT_SECONDS}s")


@contextmanager
def serving(app_spec: str, env: dict[str, str], probe_path: str = "/") -> Iterator[Server]:
    """gunicorn for the duration of a with-block, stopped by pid afterwards."""
    server = start_gunicorn(app_spec, env, probe_path=probe_path)
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


def load(
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    seconds: float = 3.0,
    connections: int = 16,
) -> LoadResult:
    """A bounded load run: wrk when it is installed (it costs the server less CPU), else Python."""
    if shutil.which("wrk"):
        return wrk_load(port, path, headers or {}, seconds, connections)
    return python_load(port, path, headers or {}, seconds, connections)


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
