"""Scheduled sweeps of the members feature, handed to the scheduler by create_app."""

from __future__ import annotations

from forum.scheduling.registry import JobSpec


def jobs() -> list[JobSpec]:
    """The members feature's recurring jobs."""
    return []
