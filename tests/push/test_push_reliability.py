"""The push fan-out under a crash: SIGKILL in the middle of it loses no device's message, and a
repeat is the same message (same Topic, same tag), at most one recorded group of it.

Marked slow (it still runs in CI) and bounded in time."""

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
from sqlalchemy import select

from forum.extensions import db
from forum.notify import preferences, subscriptions
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import OutboxMessage
from forum.notify.pushes import RECORD_EVERY
from tests.alerts.bulk import bulk_members
from tests.support.members import test_password_hash

PROJECT = Path(__file__).resolve().parents[2]
DEVICES = 400
BATCH = 100


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_push_fan_out_loses_nothing(
    app, members, instance, push_service
):
    raiser = members.make()
    everyone = bulk_members(DEVICES, test_password_hash())
    db.session.commit()
    devices = {}
    for member in everyone:
        device = push_service.device()
        subscriptions.subscribe(member, device.subscription(), session_ref=None)
        preferences.save_choices(member, {"urgent_alerts": "push"})
        devices[member.id] = device
    db.session.commit()
    settings = copy.deepcopy(app.config["EXCHANGE"])
    settings["delivery"]["lease_seconds"] = 2  # the crashed batch is taken again soon
    app.config["EXCHANGE"]["delivery"]["lease_seconds"] = 2
    settings_path = instance / "child-settings.json"
    settings_path.write_text(json.dumps(settings), encoding="utf-8")
    raiser_id = raiser.id
    db.session.remove()

    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.alerts.fanout_child",
            str(settings_path),
            raiser_id,
            str(BATCH),
        ],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while len(push_service.received) < 2 * BATCH + BATCH // 3 and time.monotonic() < deadline:
            assert child.poll() is None, "the child finished before it could be killed"
            time.sleep(0.002)
        before_kill = len(push_service.received)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        child.stdout.close()
    assert 0 < before_kill < DEVICES

    deadline = time.monotonic() + 60  # a restart: the sweep takes what the dead process left
    while time.monotonic() < deadline:
        dispatch_due(limit=200)
        pending = db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.status == "pending")
        ).all()
        db.session.commit()
        if not pending:
            break
        time.sleep(0.25)

    for member_id, device in devices.items():
        assert push_service.messages_for(device), member_id  # nobody lost
    tags = Counter(m.payload["tag"] for m in push_service.received)
    duplicates = sum(n - 1 for n in tags.values())
    assert duplicates <= RECORD_EVERY  # only the group in flight when the process died
    topics = {m.payload["tag"]: set() for m in push_service.received}
    for message in push_service.received:
        topics[message.payload["tag"]].add(message.headers["topic"])
    assert all(len(seen) == 1 for seen in topics.values())  # a repeat replaces, not adds
    pushed = select(OutboxMessage.status).where(OutboxMessage.channel == "push")
    assert set(db.session.scalars(pushed)) == {"sent"}
    standby = select(OutboxMessage.status).where(OutboxMessage.channel == "email")
    assert set(db.session.scalars(standby)) == {"cancelled"}  # every phone took it: no e-mail
