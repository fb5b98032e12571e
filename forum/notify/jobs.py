"""Scheduled sweeps of the notify feature, handed to the scheduler by create_app."""

from __future__ import annotations

from forum.scheduling.registry import JobSpec


def jobs() -> list[JobSpec]:
    """The notify feature's recurring jobs."""
    return []
