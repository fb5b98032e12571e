"""Scaled out, proven: two gunicorn web processes and two `exchange worker`s on PostgreSQL, rate
limits in Redis, mail to a real SMTP server. Alerts, posts and reminders fall due; then we check
that no notification went out twice, every scheduled step ran once, the second worker stood by
until the first was killed, and then took over. Everything runs on loopback and is stopped by pid.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, make_url, select, update

from forum import create_app
from forum.alerts.models import Alert, AlertEscalation
from forum.calls import services as calls
from forum.calls.models import Reminder
from forum.db import utcnow
from forum.extensions import db
from forum.notify.models import Notification, OutboxMessage
from forum.threads import services as threads
from tests.ops.scale_out_support import (
    EXCHANGE,
    ROOT,
    Client,
    Deployment,
    Listener,
    emails,
    ready,
    redis_up,
    wait_for,
)
from tests.support.app import PG_URL
from tests.support.mail import Mailbox
from tests.support.members import Members

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="EXCHANGE_TEST_DATABASE_URL is not set"),
]


@pytest.fixture
def deployment(tmp_path: Path, smtp_server: tuple[object, Mailbox]) -> Iterator[Deployment]:
    if not redis_up():
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


def test_two_web_processes_and_two_workers_do_everything_once(
    deployment: Deployment, mailbox: Mailbox
) -> None:
    d = deployment
    web_a, web_b = d.web("web-a"), d.web("web-b")
    first = d.worker("worker-1")
    wait_for(lambda: "holds the scheduler lock" in first.output(), 30, "the first worker to lead")
    second = d.worker("worker-2")
    wait_for(lambda: "standby" in second.output(), 30, "the second worker to stand by")
    wait_for(lambda: ready(d.ports["web-a"]) and ready(d.ports["web-b"]), 60, "both web processes")

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

    mails = emails(mailbox)
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
    before = len(emails(mailbox))
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
        lambda: len(emails(mailbox)) >= before + len(second_audience),
        60,
        "the second alert's e-mails",
    )
    time.sleep(2)
    after = emails(mailbox)[before:]
    assert Counter(to for to, _, _ in after) == Counter(m.email for m in second_audience)
    for listener in (on_a, on_b):
        listener.stop.set()
    assert web_a.popen.poll() is None and web_b.popen.poll() is None
