"""The bounce receiver runs in exactly one process, as operators start them: the `exchange
worker` that holds the scheduler lock (a standby worker does not listen, and takes over the
port when the first one stops), and `exchange serve`, which runs the scheduler inside."""

from __future__ import annotations

import smtplib
import time
from pathlib import Path

import pytest

from tests.platform.bounce_helpers import BOUNCE_ADDRESS
from tests.platform.cli_helpers import Running, exchange, instance_config
from tests.platform.helpers import closed_port

pytestmark = pytest.mark.slow


def _greets(port: int) -> str | None:
    """The SMTP greeting on the port, or None when nobody listens."""
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
            code, banner = probe.ehlo()
            return banner.decode() if code == 250 else None
    except OSError:
        return None


def _soon(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _bounce_config(tmp_path: Path, port: int) -> Path:
    return instance_config(
        tmp_path,
        extra=f'[mail]\nbounce_address = "{BOUNCE_ADDRESS}"\nbounce_listen = "127.0.0.1:{port}"\n',
    )


def test_only_the_worker_holding_the_scheduler_lock_listens_for_bounces(tmp_path: Path) -> None:
    port = closed_port()
    config = _bounce_config(tmp_path, port)
    assert exchange(tmp_path, "--config", str(config), "init").returncode == 0
    first = Running(tmp_path, "--config", str(config), "worker")
    second = None
    try:
        assert first.wait_for("holds the scheduler lock"), first.output
        assert _soon(lambda: _greets(port) is not None), first.output
        assert "exchange.invictm.test" in (_greets(port) or "")  # the receiver, by its name
        second = Running(tmp_path, "--config", str(config), "worker")
        assert second.wait_for("waits (standby)"), second.output
        assert "cannot listen" not in second.output  # it never tried: the port is the leader's
        first.stop()
        assert second.wait_for("holds the scheduler lock"), second.output
        assert _soon(lambda: _greets(port) is not None), second.output
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert _greets(port) is None


def test_exchange_serve_listens_for_bounces_beside_its_pages(tmp_path: Path) -> None:
    port, bounce_port = closed_port(), closed_port()
    config = _bounce_config(tmp_path, bounce_port)
    server = Running(
        tmp_path, "--config", str(config), "serve", "--host", "127.0.0.1", "--port", str(port)
    )
    try:
        assert server.wait_for("is running at"), server.output
        assert _soon(lambda: _greets(bounce_port) is not None), server.output
    finally:
        server.stop()
    assert _greets(bounce_port) is None
