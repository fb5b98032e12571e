"""A private, throwaway PostgreSQL server for fault tests: started, stopped and restarted by the
test itself on a loopback port, so restarting it never disturbs the machine's shared server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.net import free_port as _free_port

BIN_ROOT = Path("/usr/lib/postgresql")


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, if any."""
    if not BIN_ROOT.is_dir():
        return None
    versions = sorted(
        (p for p in BIN_ROOT.iterdir() if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
    )
    return versions[-1] / "bin" if versions else None


class PrivateCluster:
    """initdb into a temporary folder owned by the postgres user; pg_ctl start/stop/restart."""

    def __init__(self) -> None:
        found = postgres_bin()
        if found is None or shutil.which("runuser") is None:
            raise RuntimeError("PostgreSQL server binaries or runuser are not installed")
        self.bin = found
        self.root = Path(tempfile.mkdtemp(prefix="exchange-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        shutil.chown(self.root, user="postgres")
        self._as_postgres(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / program), *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_up(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def wait_up(self, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not self.is_up():
            if time.monotonic() > deadline:
                raise TimeoutError("private PostgreSQL did not come up")
            time.sleep(0.1)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)
