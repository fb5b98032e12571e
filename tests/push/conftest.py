"""Push tests: a real push service on loopback (tests/support/push_service.py) that the
Exchange is told to trust (`push.allow_hosts`, as a deployment with an internal one would)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from forum.extensions import db
from forum.members.models import Member
from forum.notify import subscriptions
from tests.support.push_service import Device, PushService


@pytest.fixture
def push_service(app: Flask) -> Iterator[PushService]:
    """The push service, checking VAPID against this Exchange's public key."""
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    with PushService(vapid_public_key=subscriptions.vapid_public_key()) as service:
        yield service


@pytest.fixture
def add_device(push_service: PushService) -> Callable[..., tuple[Device, str]]:
    """Subscribe a new device of `member` the way the browser's page does; returns the device
    and its answer credential."""

    def add(member: Member, session_ref: str | None = None) -> tuple[Device, str]:
        device = push_service.device()
        made = subscriptions.subscribe(
            member,
            device.subscription(),
            session_ref=session_ref,
            user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/131.0 Mobile Safari/537.36",
        )
        db.session.commit()
        return device, made.credential

    return add
