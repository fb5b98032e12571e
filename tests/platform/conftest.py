"""Fixtures of the platform tests."""

from __future__ import annotations
