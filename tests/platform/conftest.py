"""Fixtures of the platform tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from forum.notify.bounces import BounceReceiver
from tests.platform.bounce_helpers import BOUNCE_ADDRESS
from tests.support.net import free_port


@pytest.fixture
def bounce_address(app: Flask) -> str:
    """This Exchange with mail.bounce_address set: its e-mails leave from VERP addresses."""
    app.config["EXCHANGE"]["mail"]["bounce_address"] = BOUNCE_ADDRESS
    return BOUNCE_ADDRESS


@pytest.fixture
def bounce_receiver(app: Flask, bounce_address: str) -> Iterator[BounceReceiver]:
    """Its bounce receiver listening on loopback (started as the scheduler's runtime does)."""
    app.config["EXCHANGE"]["mail"]["bounce_listen"] = f"127.0.0.1:{free_port()}"
    receiver = BounceReceiver(app)
    receiver.start()
    assert receiver.enabled
    yield receiver
    receiver.stop()
