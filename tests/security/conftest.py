"""Fixtures of the hostile-client tests (helpers such as CountingHasher: tests.support.hashing)."""

from __future__ import annotations
