"""Scaled out, proven: two gunicorn web processes and two `exchange worker`s on PostgreSQL, rate
limits in Redis, mail to a real SMTP server. Alerts, posts and reminders fall due; then we check
that no notification went out twice, every scheduled step ran once, the second worker stood by
until the first was killed, and then took over. Everything runs on loopback and is stopped by pid.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from flask import Flask
from sqlalchemy import func, make_url, select, update

from forum import create_app
from forum.alerts.models import Alert, AlertEscalation
from forum.calls import services as calls
from forum.calls.models import Reminder
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.members.sessions import SESSION_KEY, start_session
from forum.notify.models import Notification, OutboxMessage
from forum.threads import services as threads
from tests.support.app import PG_URL
from tests.support.mail import Mailbox
from tests.support.members import Members
from tests.support.net import free_port as _free_port

ROOT = Path(__file__).resolve().parents[2]
EXCHANGE = [sys.executable, "-c", "from forum.cli import main; main()"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="EXCHANGE_TEST_DATABASE_URL is not set"),
]


def _redis_up() -> bool:
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
        port = self.ports[name] = _free_port()
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


@pytest.fixture
def deployment(tmp_path: Path, smtp_server: tuple[object, Mailbox]) -> Iterator[Deployment]:
    if not _redis_up():
        pytest.fail("Redis is not answering on 127.0.0.1:6379 (.ci/run starts it)")
    url = make_url(PG_URL)
    name = f"{url.database}_scale"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    database_url = url.set(database=name).render_as_string(hide_password=False)
    instance = tmp_path / "instance"
    smtp_port = smtp_server[0].port  # type: ignore[attr-defined]
    config = tmp_path / "exchange.toml"
    config.write_text(
        f"""
[app]
secret_key = "{secrets.token_urlsafe(48)}"
base_url = "http://127.0.0.1:8080"
instance_path = "{instance}"
[database]
url = "{database_url}"
[security]
cookie_secure = false
ratelimit_storage_uri = "redis://127.0.0.1:6379/7"
[mail]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
from_address = "exchange@invictm.test"
[scheduler]
sweep_seconds = 1
lock_retry_seconds = 1
[delivery]
retry_base_seconds = 1
urgent_sweep_seconds = 1
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update(EXCHANGE_CONFIG=str(config), PYTHONPATH=str(ROOT))
    subprocess.run(
        [*EXCHANGE, "--config", str(config), "init"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )  # noqa: S603
    app = create_app(config_path=config)
    deployment = Deployment(config, env, tmp_path, app)
    try:
        with app.app_context():
            yield deployment
    finally:
        for process in deployment.processes:
            process.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ready(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/readyz")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def _emails(mailbox: Mailbox) -> list[tuple[str, str, str]]:
    with mailbox.lock:
        return [(str(m["To"]), str(m["Subject"]), str(m["Message-ID"])) for m in mailbox.messages]


def test_two_web_processes_and_two_workers_do_everything_once(
    deployment: Deployment, mailbox: Mailbox
) -> None:
    d = deployment
    web_a, web_b = d.web("web-a"), d.web("web-b")
    first = d.worker("worker-1")
    wait_for(lambda: "holds the scheduler lock" in first.output(), 30, "the first worker to lead")
    second = d.worker("worker-2")
    wait_for(lambda: "standby" in second.output(), 30, "the second worker to stand by")
    wait_for(
        lambda: _ready(d.ports["web-a"]) and _ready(d.ports["web-b"]), 60, "both web processes"
    )

    people = Members()
    coordinator = people.coordinator(email="coordinator@scale.example.org")
    crowd = [people.make(email=f"m{i}@scale.example.org") for i in range(10)]
    everyone = [coordinator, *crowd]
    threads.ensure_default_categories()
    thread = threads.start_thread(
        author=crowd[0],
        category=None,
        title="Reception centres",
        body="What worked?",
        label="GREEN",
    )
    db.session.commit()

    # Open pages: one member's page is served by web A, another's by web B.
    on_a, on_b = (
        Listener(Client(d.app, d.ports["web-a"], crowd[1])),
        Listener(Client(d.app, d.ports["web-b"], crowd[2])),
    )
    for listener in (on_a, on_b):
        listener.start()
        assert listener.connected.wait(10)

    # An alert raised through web B reaches the page held by web A, and the one held by web B.
    raiser = Client(d.app, d.ports["web-b"], crowd[3])
    status, _ = raiser.post(
        "/alerts/new",
        {
            "kind": "attack",
            "severity": "critical",
            "title": "Explosion at the central station",
            "city": "Exampleville",
            "country": "BE",
            "occurred_at": "2026-11-28T14:00",
            "nationalities": "FR, DE",
            "needs": "Interpreters",
        },
        "/alerts/new",
    )
    assert status in (302, 303), status
    alert_id = db.session.scalar(select(Alert.id))
    assert alert_id
    wait_for(
        lambda: on_a.saw(alert_id) or on_a.saw("urgent"), 10, "the banner on the page held by web A"
    )
    wait_for(
        lambda: on_b.saw(alert_id) or on_b.saw("urgent"), 10, "the banner on the page held by web B"
    )

    # A reply through web A; a call whose one-hour reminder falls due in a few seconds.
    replier = Client(d.app, d.ports["web-a"], crowd[4])
    status, _ = replier.post(
        f"/threads/{thread.id}/posts", {"body": "Interpreters first."}, f"/threads/{thread.id}"
    )
    assert status in (302, 303), status
    calls.create_adhoc_call(
        organiser=coordinator,
        title="Emergency call",
        starts_at=utcnow() + timedelta(minutes=60, seconds=4),
        duration_minutes=30,
    )
    db.session.commit()

    # Let the alert's escalation fall due: nobody answered for longer than the configured delay.
    db.session.execute(
        update(Alert).where(Alert.id == alert_id).values(created_at=utcnow() - timedelta(hours=2))
    )
    db.session.commit()

    def settled() -> bool:
        db.session.rollback()
        pending = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
        steps = db.session.scalar(select(func.count()).select_from(AlertEscalation))
        reminders = db.session.scalars(select(Reminder.status)).all()
        return pending == 0 and steps == 2 and bool(reminders) and set(reminders) == {"sent"}

    wait_for(settled, 90, "every delivery to be sent")
    time.sleep(3)  # a few more sweeps: nothing new may go out

    mails = _emails(mailbox)
    ids = Counter(message_id for _, _, message_id in mails)
    assert max(ids.values()) == 1, "a message was sent twice"
    # Every notification in this run has its own subject per member: a repeat is a duplicate.
    assert max(Counter((to, subject) for to, subject, _ in mails).values()) == 1
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert len(mails) == len(rows), "one e-mail per outbox row, no more"
    per_member_event = Counter(
        (n.member_id, n.event_key) for n in db.session.scalars(select(Notification))
    )
    assert per_member_event and max(per_member_event.values()) == 1
    # Everyone got the alert e-mail exactly once (but its raiser, who is not asked to answer).
    alert_mail = Counter(to for to, subject, _ in mails if "Urgent alert" in subject)
    audience = {m.email for m in everyone if m.id != crowd[3].id}
    assert set(alert_mail) == audience and set(alert_mail.values()) == {1}
    # Each escalation step ran once; the call's reminder went out once per member.
    assert sorted(db.session.scalars(select(AlertEscalation.step))) == ["coordinators", "renotify"]
    reminded = db.session.scalars(select(Reminder)).all()
    assert len(reminded) == 1 and reminded[0].status == "sent"
    leaders = [p.name for p in (first, second) if "holds the scheduler lock" in p.output()]
    assert leaders == ["worker-1"]

    # Kill the leader outright: the standby takes over and delivers what comes next, once.
    first.stop(signal.SIGKILL)
    wait_for(lambda: "holds the scheduler lock" in second.output(), 30, "the standby to take over")
    before = len(_emails(mailbox))
    status, _ = Client(d.app, d.ports["web-a"], crowd[5]).post(
        "/alerts/new",
        {
            "kind": "question",
            "severity": "high",
            "title": "Question about repatriation",
            "city": "",
            "country": "BE",
            "occurred_at": "2026-11-28T15:00",
            "nationalities": "",
            "needs": "Contacts",
        },
        "/alerts/new",
    )
    assert status in (302, 303), status
    second_audience = [m for m in everyone if m.id != crowd[5].id]  # not its raiser
    wait_for(
        lambda: len(_emails(mailbox)) >= before + len(second_audience),
        60,
        "the second alert's e-mails",
    )
    time.sleep(2)
    after = _emails(mailbox)[before:]
    assert Counter(to for to, _, _ in after) == Counter(m.email for m in second_audience)
    for listener in (on_a, on_b):
        listener.stop.set()
    assert web_a.popen.poll() is None and web_b.popen.poll() is None
