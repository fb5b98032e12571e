"""Slow clients and open live pages against a real `exchange serve` (issue 9, item 6).

Connections that send their headers a byte at a time, and one member opening far more live pages
than anyone needs, used to take every thread of the one serving process: every other member's
page stopped answering. Bounded: 100 half-open connections and 20 streams, loopback only, and the
server is stopped by its pid.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from forum import create_app
from forum.extensions import db
from forum.members import services as member_services
from forum.members.sessions import SESSION_KEY, start_session
from tests.platform.helpers import closed_port
from tests.platform.test_cli import Running, exchange, instance_config
from tests.support.members import test_password_hash

HALF_OPEN = 100
STREAMS = 20
CAP = 5
ANSWER_WITHIN = 10.0  # a bound on waiting, not a timing assertion


def _cookies(config: Path) -> tuple[str, str]:
    """Session cookies of two members: the one who opens many pages, and a bystander."""
    app = create_app(config_path=config)
    cookies = []
    with app.app_context():
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        for address in ("greedy@example.org", "bystander@example.org"):
            member = member_services.create_member(
                email=address, name=address.split("@")[0], password_hash=test_password_hash()
            )
            token = start_session(member)
            db.session.commit()
            value = serializer.dumps({SESSION_KEY: token, "_permanent": True})
            cookies.append(f"{app.config['SESSION_COOKIE_NAME']}={value}")
        db.engine.dispose()
    return cookies[0], cookies[1]


def _status(port: int, path: str, cookie: str) -> tuple[socket.socket, int]:
    """Send a GET and read its status line; the socket stays open (a stream keeps going)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n\r\n"
    sock.sendall(request.encode())
    line = b""
    while not line.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        line += chunk
    return sock, int(line.split()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, str, str]]:
    """`exchange serve` with a small page pool, two signed-in members; stopped by pid."""
    config = instance_config(tmp_path, extra="[server]\nthreads = 8\nlive_heartbeat_seconds = 2\n")
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    greedy, bystander = _cookies(config)
    port = closed_port()
    server = Running(tmp_path, "--config", str(config), "serve", "--port", str(port))
    try:
        assert server.wait_for("running at"), server.output
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                sock, _status_code = _status(port, "/live/poll", bystander)
                sock.close()
                break
            except OSError:
                time.sleep(0.2)
        yield port, greedy, bystander
    finally:
        server.stop()


def test_half_open_connections_and_extra_streams_leave_a_bystander_served(
    served: tuple[int, str, str],
) -> None:
    port, greedy, bystander = served
    held: list[socket.socket] = []
    try:
        for _ in range(HALF_OPEN):  # headers begun, never finished
            sock = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            held.append(sock)
        for sock in held:  # ... and still trickling, a byte at a time
            sock.sendall(b"a")
        statuses = []
        for _ in range(STREAMS):
            sock, status = _status(port, "/live/stream", greedy)
            held.append(sock)
            statuses.append(status)

        page, bystander_status = _status(port, "/live/poll", bystander)
        held.append(page)
        stream, bystander_stream = _status(port, "/live/stream", bystander)
        held.append(stream)
    finally:
        for sock in held:
            sock.close()

    assert bystander_status == 200
    assert bystander_stream == 200
    assert statuses.count(200) == CAP
    assert statuses.count(204) == STREAMS - CAP
