"""A counting wrapper around the Argon2id hasher, for the hostile-client tests of sign-in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CountingHasher:
    """Wraps the Argon2id hasher: counts the computations that reach it, and can run a probe
    (e.g. "can another connection write now?") during each one."""

    def __init__(self, real: Any, probe: Callable[[], Any] | None = None) -> None:
        self.real = real
        self.probe = probe
        self.verify_calls = 0
        self.hash_calls = 0
        self.probes: list[Any] = []

    def verify(self, stored: str, password: str) -> bool:
        self.verify_calls += 1
        if self.probe is not None:
            self.probes.append(self.probe())
        return bool(self.real.verify(stored, password))

    def hash(self, password: str) -> str:
        self.hash_calls += 1
        if self.probe is not None:
            self.probes.append(self.probe())
        return str(self.real.hash(password))

    def check_needs_rehash(self, stored: str) -> bool:
        return bool(self.real.check_needs_rehash(stored))
