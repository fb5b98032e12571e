"""The loopback push service of the tests (tests/support/push_service.py), run in a process of
its own, as a real push service runs on a machine of its own.

In the bench's process it shared the interpreter lock with the Exchange it measured: every VAPID
check and payload decryption it made (an ECDSA verify and an ECDH per message) was time the
Exchange's sender could not run, so the figure counted the receiver's work as the sender's.

    with PushProcess(vapid_public_key) as service:
        subscriptions = service.devices(1_000)   # what each browser would hand the Exchange
        started = time.perf_counter()
        ... the Exchange sends ...
        seconds = service.wait(1_000, started)   # until the 1,000th message was accepted

Times are the child's `time.perf_counter()` at the moment it accepted a message: on Linux that
is CLOCK_MONOTONIC, the same clock in every process, so they compare with the parent's.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _serve(connection: Connection, vapid_public_key: str | None) -> None:
    """The child: a PushService answering the parent's commands until told to stop."""
    sys.path.insert(0, str(ROOT))
    from tests.support.push_service import PushService

    service = PushService(vapid_public_key=vapid_public_key)
    arrivals: list[float] = []
    original = service._receive

    def receive(path: str, headers: dict[str, str], body: bytes) -> int:
        status = original(path, headers, body)
        if status == 201:
            arrivals.append(time.perf_counter())  # list.append is atomic under the GIL
        return status

    service._receive = receive  # type: ignore[method-assign]
    service.start()
    connection.send(service.origin)
    while True:
        command, argument = connection.recv()
        if command == "devices":
            connection.send([service.device().subscription() for _ in range(int(argument))])
        elif command == "wait":
            count, deadline = argument
            while len(arrivals) < count and time.perf_counter() < deadline:
                time.sleep(0.0005)
            ordered = sorted(arrivals)
            connection.send(ordered[count - 1] if len(ordered) >= count else None)
        elif command == "accepted":
            connection.send(len(arrivals))
        elif command == "refused":
            connection.send(list(service.refused[: int(argument)]))
        elif command == "clear":
            arrivals.clear()
            with service.lock:
                service.received.clear()
                service.refused.clear()
            connection.send(True)
        else:  # "stop"
            service.stop()
            connection.send(True)
            return


class PushProcess:
    """Parent side: start, ask, stop (by its process id, always)."""

    def __init__(self, vapid_public_key: str | None) -> None:
        context = multiprocessing.get_context("spawn")  # the parent holds threads: never fork
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, vapid_public_key), name="loopback-push", daemon=True
        )
        self._process.start()
        if not self._connection.poll(60):
            self.stop()
            raise RuntimeError("the loopback push service did not start within 60 s")
        self.origin: str = self._connection.recv()

    def __enter__(self) -> PushProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _ask(self, command: str, argument: Any = None) -> Any:
        self._connection.send((command, argument))
        return self._connection.recv()

    def devices(self, count: int) -> list[dict[str, Any]]:
        """`count` new browser subscriptions (endpoint and public keys; private keys stay here)."""
        return list(self._ask("devices", count))

    def wait(self, count: int, started: float, limit: float = 120.0) -> float | None:
        """Seconds from `started` (parent's perf_counter) to the `count`th accepted message."""
        at = self._ask("wait", (count, started + limit))
        return None if at is None else float(at) - started

    def accepted(self) -> int:
        return int(self._ask("accepted"))

    def refused(self, limit: int = 3) -> list[tuple[str, str]]:
        return list(self._ask("refused", limit))

    def clear(self) -> None:
        self._ask("clear")

    def stop(self) -> None:
        if self._process.is_alive():
            try:
                self._connection.send(("stop", None))
                self._connection.poll(5) and self._connection.recv()
            except (BrokenPipeError, EOFError, OSError):
                pass
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
