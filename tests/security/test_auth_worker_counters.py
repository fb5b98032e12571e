"""Issue 9 item 15: several gunicorn workers with memory:// rate-limit storage would each count
on their own (18 password checks reached the hash with 3 workers). The deploy config refuses to
start them with one sentence naming the key; the scaled-out settings (Redis) still start."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from forum.config import ConfigError
from forum.crypto.keyring import create_keyring
from forum.security.ratelimit import refuse_unshared_counters
from tests.support.net import free_port as _free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(instance: Path, storage: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        EXCHANGE_APP_SECRET_KEY=secrets.token_urlsafe(48),
        EXCHANGE_APP_INSTANCE_PATH=str(instance),
        EXCHANGE_SECURITY_RATELIMIT_STORAGE_URI=storage,
        EXCHANGE_SCHEDULER_ENABLED="false",
    )
    return env


def _gunicorn(instance: Path, storage: str, workers: int, port: int) -> subprocess.Popen[bytes]:
    with (instance / "gunicorn.log").open("wb") as log:  # the child keeps its own descriptor
        return _start(instance, storage, workers, port, log)


def _start(
    instance: Path, storage: str, workers: int, port: int, log: object
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own server, loopback only
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "2",
        ],
        cwd=ROOT,
        env=_env(instance, storage),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def test_the_rule_names_the_key():
    try:
        refuse_unshared_counters("memory://", 3)
    except ConfigError as error:
        assert "security.ratelimit_storage_uri" in str(error)
    else:
        raise AssertionError("three workers on memory:// must be refused")
    refuse_unshared_counters("memory://", 1)
    refuse_unshared_counters("redis://127.0.0.1:6379/0", 3)


@pytest.mark.slow
def test_gunicorn_refuses_three_workers_on_memory_storage(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    create_keyring(instance / "keyring.json")
    process = _gunicorn(instance, "memory://", 3, _free_port())
    try:
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
    assert process.returncode != 0
    text = (instance / "gunicorn.log").read_text("utf-8", "replace")
    assert "security.ratelimit_storage_uri" in text and "Booting worker" not in text


@pytest.mark.slow
def test_scaled_out_settings_still_start_two_workers(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir()
    create_keyring(instance / "keyring.json")
    port = _free_port()
    # A Redis address is enough to start (the limiter connects when a limit is first checked;
    # /healthz has none), so this does not depend on a Redis server being up.
    process = _gunicorn(instance, "redis://127.0.0.1:1/9", 2, port)
    try:
        status = None
        for _ in range(120):  # bounded: at most about 30 s
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    status = r.status
                    break
            except OSError:
                if process.poll() is not None:
                    break
                time.sleep(0.25)
        assert status == 200, "the deploy config with Redis storage serves with two workers"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
