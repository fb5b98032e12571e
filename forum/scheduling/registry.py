"""Jobs that features hand to the scheduler. Features never import the scheduler itself.

A feature lists its jobs in `<feature>/jobs.py` as `def jobs() -> list[JobSpec]`; create_app
collects them into app.extensions["exchange.jobs"]; the runtime (serve or worker) schedules them.
Each job is an idempotent sweep over due rows in the database, run inside an app context and
committed by the runtime, so a restart loses nothing and repeats nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JobSpec:
    """One recurring job: what to call, on which APScheduler trigger, with what grace."""

    id: str
    func: Callable[[], Any]
    trigger: str  # "interval" or "cron"
    trigger_args: dict[str, Any] = field(default_factory=dict)
    # How late a run may still start after the scheduler was busy or down (seconds).
    misfire_grace_time: int = 60
    # Several missed runs collapse into one: every job is a sweep, one run catches up on all.
    coalesce: bool = True
