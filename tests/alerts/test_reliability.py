"""Reliability of the fan-out: SIGKILL in the middle of it, and an SMTP outage during it.

Both are marked slow (they still run in CI) and bounded in time.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from forum.alerts.models import Alert
from forum.extensions import db
from forum.members.models import Member
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import Notification, OutboxMessage
from tests.alerts.bulk import bulk_members
from tests.support.alerts import raise_alert
from tests.support.mail import Mailbox, MailHandler
from tests.support.members import test_password_hash
from tests.support.net import free_port

PROJECT = Path(__file__).resolve().parents[2]
MEMBERS = 1_000
BATCH = 50


def _make_many(members, count: int) -> list[Member]:
    made = bulk_members(count, test_password_hash())
    db.session.commit()
    return made


def _drain(limit_seconds: float = 60.0) -> None:
    """Run the dispatcher until no pending row is left (bounded in time)."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        result = dispatch_due(limit=200)
        pending = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
        db.session.commit()
        if not pending:
            return
        if result.claimed == 0:
            time.sleep(0.25)
    raise AssertionError("the outbox did not drain in time")


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_fan_out_loses_nothing_and_repeats_only_one_batch(
    app, members, mailbox, instance
):
    raiser = members.make()
    everyone = [raiser, *_make_many(members, MEMBERS)]
    addresses = {m.id: m.email for m in everyone if m.id != raiser.id}  # not asked to answer
    settings = copy.deepcopy(app.config["EXCHANGE"])
    settings["delivery"]["lease_seconds"] = 2  # the crashed batch is taken again soon
    app.config["EXCHANGE"]["delivery"]["lease_seconds"] = 2
    settings_path = instance / "child-settings.json"
    settings_path.write_text(json.dumps(settings), encoding="utf-8")
    db.session.remove()

    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.alerts.fanout_child",
            str(settings_path),
            raiser.id,
            str(BATCH),
        ],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while len(mailbox.raw) < 7 * BATCH + BATCH // 2 and time.monotonic() < deadline:
            assert child.poll() is None, "the child finished before it could be killed"
            time.sleep(0.002)
        delivered_before_kill = len(mailbox.raw)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        child.stdout.close()
    assert 0 < delivered_before_kill < len(everyone)

    # A restart: the sweep takes the rows the dead process left (after their lease ends).
    _drain()

    alert = db.session.scalar(select(Alert))
    per_member = dict(
        db.session.execute(
            select(Notification.member_id, func.count())
            .where(Notification.event_key == f"alert:{alert.id}:raised")
            .group_by(Notification.member_id)
        ).all()
    )
    assert per_member == {member_id: 1 for member_id in addresses}
    received = {str(m["To"]) for m in mailbox.messages}
    assert set(addresses.values()) <= received
    copies = Counter(str(m["Message-ID"]) for m in mailbox.messages)
    duplicates = sum(n - 1 for n in copies.values())
    assert duplicates <= BATCH  # only the batch in flight when the process died
    by_id: dict[str, set[str]] = {}
    for message in mailbox.messages:
        by_id.setdefault(str(message["Message-ID"]), set()).add(str(message["To"]))
    assert all(len(to) == 1 for to in by_id.values())  # a repeat is the same message
    statuses = set(db.session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent"}


@pytest.mark.slow
def test_smtp_outage_during_fan_out_delays_only_email(app, members):
    """The issue's outage is 2 minutes; this one is 20 s with a 1 s retry base, same mechanism."""
    outage_seconds = 20
    port = free_port()
    app.config["EXCHANGE"]["mail"]["smtp_port"] = port
    app.config["EXCHANGE"]["delivery"]["retry_base_seconds"] = 1
    app.config["EXCHANGE"]["delivery"]["max_attempts"] = 12
    raiser = members.make()
    others = _make_many(members, 40)
    addresses = {m.email for m in others}  # the raiser is not asked to answer her own alert

    alert = raise_alert(raiser)  # the SMTP server is down from the start
    notifications = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.link == alert.link)
    )
    assert notifications == len(addresses)  # in-app rows are committed with the alert itself
    result = dispatch_due()
    db.session.commit()
    assert result.sent == 0 and result.retrying == len(addresses)

    mailbox = Mailbox()
    started = time.monotonic()
    controller = None
    try:
        deadline = started + 90
        while time.monotonic() < deadline:
            if controller is None and time.monotonic() - started >= outage_seconds:
                controller = Controller(MailHandler(mailbox), hostname="127.0.0.1", port=port)
                controller.start()
            dispatch_due()
            db.session.commit()
            pending = db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != "sent")
            )
            if controller is not None and not pending:
                break
            time.sleep(0.25)
    finally:
        if controller is not None:
            controller.stop()
    assert {str(m["To"]) for m in mailbox.messages} == addresses
    rows = list(db.session.scalars(select(OutboxMessage)))
    assert all(row.status == "sent" for row in rows)
    assert min(row.attempts for row in rows) >= 3  # retried with backoff through the outage
    assert max(row.attempts for row in rows) <= 10  # backoff, not a busy loop
