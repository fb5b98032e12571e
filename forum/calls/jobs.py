"""Scheduled sweeps of the calls feature, handed to the scheduler by create_app."""

from __future__ import annotations

from forum.scheduling.registry import JobSpec


def jobs() -> list[JobSpec]:
    """The calls feature's recurring jobs."""
    return []
