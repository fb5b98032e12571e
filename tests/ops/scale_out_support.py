"""The scaled-out deployment the scale-out test drives: processes, a browser-like client and
a live-stream listener, all on loopback, stopped by pid."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask

from forum.extensions import db
from forum.members.models import Member
from forum.members.sessions import SESSION_KEY, start_session
from tests.support.mail import Mailbox
from tests.support.net import free_port  # noqa: F401 - the scale-out tests take it from here

ROOT = Path(__file__).resolve().parents[2]
EXCHANGE = [sys.executable, "-c", "from forum.cli import main; main()"]


def redis_up() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll a condition (bounded in time)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


@dataclass
class Deployment:
    config: Path
    env: dict[str, str]
    tmp: Path
    app: Flask
    processes: list[Process] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self, name: str, args: list[str], extra_env: dict[str, str] | None = None) -> Process:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as output:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen(  # noqa: S603 - our own program, loopback only
                args,
                cwd=ROOT,
                env={**self.env, **(extra_env or {})},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def web(self, name: str) -> Process:
        port = self.ports[name] = free_port()
        return self.start(
            name,
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
        )

    def worker(self, name: str) -> Process:
        return self.start(name, [*EXCHANGE, "--config", str(self.config), "worker"])


class Client:
    """A browser-like HTTP client on loopback: keeps the session cookie, sends the CSRF token."""

    def __init__(self, app: Flask, port: int, member: Member) -> None:
        self.port = port
        token = start_session(member)
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        self.cookie = serializer.dumps({SESSION_KEY: token, "_permanent": True})

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": f"exchange_session={self.cookie}"}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("exchange_session="):
                self.cookie = value.split(";", 1)[0].split("=", 1)[1]
        connection.close()
        return response.status, text

    def csrf(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, f"GET {path} gave {status}"
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match
        return match.group(1)

    def post(self, path: str, form: dict[str, str], page: str) -> tuple[int, str]:
        return self.request("POST", path, {**form, "csrf_token": self.csrf(page)})


class Listener(threading.Thread):
    """An open page's server-sent-events stream; records the events it receives."""

    def __init__(self, client: Client) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.events: list[tuple[float, str]] = []
        self.connected = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.client.port, timeout=5)
        connection.request(
            "GET",
            "/live/stream",
            headers={
                "Cookie": f"exchange_session={self.client.cookie}",
                "Accept": "text/event-stream",
            },
        )
        response = connection.getresponse()
        self.connected.set()
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                line = response.fp.readline()
            except (TimeoutError, OSError):
                continue
            if not line:
                return
            if line.startswith(b"data:"):
                self.events.append((time.monotonic(), line.decode("utf-8", "replace")))
        connection.close()

    def saw(self, needle: str) -> bool:
        return any(needle in data for _, data in self.events)


def ready(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/readyz")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def emails(mailbox: Mailbox) -> list[tuple[str, str, str]]:
    with mailbox.lock:
        return [(str(m["To"]), str(m["Subject"]), str(m["Message-ID"])) for m in mailbox.messages]
