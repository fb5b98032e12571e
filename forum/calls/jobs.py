"""Scheduled sweeps of the calls feature, handed to the scheduler by create_app.

Both are idempotent sweeps over rows with due times; the runtime runs them in an app context and
commits. Filling the horizon twice creates nothing the second time; a reminder is marked sent in
the transaction that writes its notifications, so a restart never sends it twice.
"""

from __future__ import annotations

from forum.calls import reminders, services
from forum.scheduling.registry import JobSpec


def fill_horizon() -> int:
    """Create missing occurrences of every active series up to calls.horizon_months ahead."""
    return services.fill_all_horizons()


def send_due_reminders() -> int:
    """Send due reminders once; skip (and log) the ones found beyond the grace period."""
    result = reminders.sweep_until_done()
    return len(result.sent)


def jobs() -> list[JobSpec]:
    """The calls feature's recurring jobs."""
    return [
        JobSpec(
            id="calls.fill_horizon",
            func=fill_horizon,
            trigger="interval",
            trigger_args={"hours": 6},
            misfire_grace_time=6 * 3600,
        ),
        JobSpec(
            id="calls.send_due_reminders",
            func=send_due_reminders,
            trigger="interval",
            trigger_args={"seconds": "setting:scheduler.sweep_seconds"},
            misfire_grace_time=300,
        ),
    ]
