"""Running the `exchange` command as an operator does: a process, a config, its output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "k3J9-very-long-random-secret-for-tests-0123456789abcdef"


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without any EXCHANGE_ setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def exchange(
    cwd: Path, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `exchange ARGS` in `cwd` and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "forum.cli", *args],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Running:
    """A long-running `exchange` process whose output lines are collected as they come."""

    def __init__(self, cwd: Path, *args: str, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "forum.cli", *args],
            cwd=cwd,
            env=environment(PYTHONUNBUFFERED="1", **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_for(self, fragment: str, seconds: float = 60) -> bool:
        """True once a line containing `fragment` appeared (bounded wait)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(fragment in line for line in self.lines):
                return True
            if self.process.poll() is not None and not self.reader.is_alive():
                return any(fragment in line for line in self.lines)
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """SIGTERM by pid, then wait (SIGKILL if it does not stop)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    @property
    def output(self) -> str:
        return "".join(self.lines)


def write_config(folder: Path, body: str) -> Path:
    path = folder / "exchange.toml"
    path.write_text(body, encoding="utf-8")
    path.chmod(0o600)
    return path


def instance_config(folder: Path, *, database: str = "", extra: str = "") -> Path:
    """A config with a strong secret and an instance folder inside `folder`."""
    return write_config(
        folder,
        f'[app]\nsecret_key = "{STRONG_SECRET}"\ninstance_path = "{folder / "instance"}"\n'
        f'[database]\nurl = "{database}"\n[security]\ncookie_secure = false\n'
        f"[scheduler]\nlock_retry_seconds = 1\n{extra}",
    )


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777
