"""The worker is killed and restarted across a due reminder: the reminder goes out once, late but
within its grace period; one found beyond its grace period is skipped and logged, never sent."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from forum import create_app
from forum.calls import services as calls
from forum.calls.models import Reminder
from forum.db import utcnow
from forum.extensions import db
from tests.support.mail import Mailbox
from tests.support.members import Members

ROOT = Path(__file__).resolve().parents[2]
EXCHANGE = [sys.executable, "-c", "from forum.cli import main; main()"]

pytestmark = pytest.mark.slow


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Worker:
    """`exchange worker` as a real process, stopped by its pid."""

    def __init__(self, config: Path, log: Path, env: dict[str, str]) -> None:
        self.log = log
        with log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603 - our own program
                [*EXCHANGE, "--config", str(config), "worker"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=20)


@pytest.fixture
def instance_app(
    tmp_path: Path, smtp_server: tuple[object, Mailbox]
) -> Iterator[tuple[Flask, Path, dict[str, str]]]:
    instance = tmp_path / "instance"
    config = tmp_path / "exchange.toml"
    config.write_text(
        f"""
[app]
secret_key = "{secrets.token_urlsafe(48)}"
instance_path = "{instance}"
[mail]
smtp_host = "127.0.0.1"
smtp_port = {smtp_server[0].port}
from_address = "exchange@invictm.test"
[scheduler]
sweep_seconds = 1
lock_retry_seconds = 1
[calls]
reminder_grace_minutes = 30
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(  # noqa: S603
        [*EXCHANGE, "--config", str(config), "init"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    app = create_app(config_path=config)
    with app.app_context():
        yield app, config, env
        db.session.remove()
        db.engine.dispose()


def test_a_reminder_due_while_the_worker_was_down_is_sent_once_late_within_grace(
    instance_app: tuple[Flask, Path, dict[str, str]], mailbox: Mailbox, tmp_path: Path
) -> None:
    app, config, env = instance_app
    people = Members()
    organiser = people.coordinator(email="organiser@restart.example.org")
    others = [people.make(email=f"m{i}@restart.example.org") for i in range(3)]
    log = tmp_path / "worker.log"

    first = Worker(config, log, env)
    try:
        wait_for(lambda: "holds the scheduler lock" in first.output(), 30, "the worker to start")
        # Due in a few seconds; the worker dies before then.
        on_time = calls.create_adhoc_call(
            organiser=organiser,
            title="Monthly exchange",
            duration_minutes=60,
            starts_at=utcnow() + timedelta(minutes=60, seconds=5),
        )
        db.session.commit()
        first.kill(signal.SIGKILL)
        # Another call's reminder falls due far beyond its grace period while the worker is down.
        too_late = calls.create_adhoc_call(
            organiser=organiser,
            title="Symposium planning",
            duration_minutes=60,
            starts_at=utcnow() + timedelta(hours=3),
        )
        db.session.commit()
        db.session.execute(
            update(Reminder)
            .where(Reminder.occurrence_id == too_late.id)
            .values(due_at=utcnow() - timedelta(hours=2))
        )
        db.session.commit()
        reminder_id = db.session.scalar(
            select(Reminder.id).where(Reminder.occurrence_id == too_late.id)
        )
        time.sleep(8)  # the on-time reminder is now overdue: the worker is still down
        mailbox.clear()
    finally:
        first.kill(signal.SIGKILL)

    second = Worker(config, log, env)
    try:

        def sent() -> bool:
            db.session.rollback()
            statuses = set(
                db.session.scalars(
                    select(Reminder.status).where(Reminder.occurrence_id == on_time.id)
                )
            )
            return statuses == {"sent"}

        wait_for(sent, 30, "the late reminder to be sent")
        wait_for(lambda: len(mailbox.messages) >= 4, 30, "the reminder e-mails")
        time.sleep(3)  # several more sweeps: nothing may go out again
    finally:
        second.kill(signal.SIGTERM)

    reminders = Counter(
        str(m["To"]) for m in mailbox.messages if str(m["Subject"]).startswith("Reminder:")
    )
    assert reminders == Counter(m.email for m in [organiser, *others])
    db.session.rollback()
    skipped = db.session.scalars(
        select(Reminder).where(Reminder.occurrence_id == too_late.id)
    ).all()
    assert [r.status for r in skipped] == ["skipped"]
    assert f"call reminder {reminder_id}" in second.output() and "skipped" in second.output()
    assert "Symposium planning" not in second.output()
