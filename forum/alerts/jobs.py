"""Scheduled sweeps of the alerts feature, handed to the scheduler by create_app."""

from __future__ import annotations

import logging

from forum.alerts.escalation import due_alerts, escalate_alert
from forum.alerts.models import Alert
from forum.db import write_lock
from forum.extensions import db
from forum.notify import live
from forum.scheduling.registry import JobSpec

log = logging.getLogger(__name__)


def run_escalations() -> int:
    """Take every due escalation step, one alert per transaction; returns the steps taken."""
    taken = 0
    for alert_id in due_alerts():
        # The write lock up front: two workers on one SQLite file queue instead of failing.
        write_lock()
        alert = db.session.get(Alert, alert_id)
        if alert is None:
            continue
        try:
            steps = escalate_alert(alert)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("escalation of alert %s failed; the next run retries", alert_id)
            continue
        taken += len(steps)
        if steps:
            log.info("alert %s escalated: %s", alert_id, ",".join(steps))
    return taken


def prune_live_events() -> int:
    """Forget live-channel events older than a few minutes (pages have long had them)."""
    write_lock()
    count = live.prune()
    db.session.commit()
    return count


def jobs() -> list[JobSpec]:
    """The alerts feature's recurring jobs."""
    return [
        JobSpec(
            "alerts.escalate",
            run_escalations,
            "interval",
            {"seconds": "setting:scheduler.sweep_seconds"},
            misfire_grace_time=300,
        ),
        JobSpec("alerts.prune_live_events", prune_live_events, "interval", {"minutes": 5}),
    ]
