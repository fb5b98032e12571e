"""APScheduler runtime: builds the scheduler from the jobs features hand it, and runs it.

Only `exchange serve` (inside its one web worker) and `exchange worker` start it — never
create_app, never a gunicorn web worker of a scaled-out deployment, never a test. Each run is an
idempotent sweep in its own app context: committed on success, rolled back and logged (job id
only, never content) on error, so a restart loses nothing and repeats nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from forum.extensions import db
from forum.notify.bounces import BounceReceiver
from forum.notify.urgent import UrgentDispatch
from forum.scheduling.registry import JobSpec

log = logging.getLogger(__name__)

SETTING_PREFIX = "setting:"


def resolve_trigger_args(app: Flask, spec: JobSpec) -> dict[str, Any]:
    """Trigger arguments with "setting:<section>.<key>" values replaced by the configured value."""
    settings = app.config["EXCHANGE"]
    resolved: dict[str, Any] = {}
    for name, value in spec.trigger_args.items():
        if isinstance(value, str) and value.startswith(SETTING_PREFIX):
            section, key = value[len(SETTING_PREFIX) :].split(".", 1)
            value = settings[section][key]
        resolved[name] = value
    return resolved


def run_job(app: Flask, spec: JobSpec) -> None:
    """Run one job in its own app context: commit on success, roll back and log on error."""
    with app.app_context():
        try:
            spec.func()
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("scheduled job %s failed; its next run will sweep again", spec.id)
        finally:
            db.session.remove()


def build_scheduler(app: Flask) -> BackgroundScheduler:
    """A BackgroundScheduler (UTC) holding every job in app.extensions["exchange.jobs"]."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=8)},
        job_defaults={
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": app.config["EXCHANGE"]["scheduler"]["misfire_grace_seconds"],
        },
    )
    specs: list[JobSpec] = app.extensions.get("exchange.jobs", [])
    for spec in specs:
        scheduler.add_job(
            run_job,
            trigger=spec.trigger,
            args=(app, spec),
            id=spec.id,
            name=spec.id,
            # Chosen per job on purpose: a reminder may start late only within its grace; a sweep
            # that missed its slot is simply covered by the next run.
            misfire_grace_time=spec.misfire_grace_time,
            coalesce=spec.coalesce,
            max_instances=1,
            replace_existing=True,
            **resolve_trigger_args(app, spec),
        )
    return scheduler


class DeliveryRuntime:
    """The scheduler, urgent dispatch right after commit, and the bounce receiver: what serve
    and worker run while they hold the leader lock (so exactly one process listens for bounces)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.scheduler: BackgroundScheduler | None = None
        self.urgent: UrgentDispatch | None = None
        self.bounces: BounceReceiver | None = None

    @property
    def running(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        """Start the scheduler (if enabled) and urgent dispatch."""
        if self.running:
            return
        self.urgent = UrgentDispatch(self.app)
        self.urgent.start()
        self.bounces = BounceReceiver(self.app)
        self.bounces.start()
        self.scheduler = build_scheduler(self.app)
        if self.app.config["EXCHANGE"]["scheduler"]["enabled"]:
            self.scheduler.start()
            log.info("scheduler started with %d jobs", len(self.scheduler.get_jobs()))
        else:
            log.warning("scheduler.enabled is false: no scheduled jobs run in this process")

    def stop(self) -> None:
        """Stop the scheduler (waiting for running jobs) and urgent dispatch."""
        if self.scheduler is not None:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            self.scheduler = None
        if self.urgent is not None:
            self.urgent.stop()
            self.urgent = None
        if self.bounces is not None:
            self.bounces.stop()
            self.bounces = None
        log.info("scheduler stopped")
