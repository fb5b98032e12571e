"""The scheduler: built from the jobs features hand it, never started by create_app."""

from __future__ import annotations

import logging
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler

from forum.extensions import db
from forum.notify.urgent import UrgentDispatch
from forum.scheduling.registry import JobSpec
from forum.scheduling.runtime import DeliveryRuntime, build_scheduler, run_job
from forum.security.audit import AuditEvent, record
from tests.platform.helpers import notify_by_email


def test_create_app_starts_no_scheduler_and_no_thread(app):
    names = {thread.name for thread in threading.enumerate()}
    assert not any("APScheduler" in name or "urgent-dispatch" in name for name in names)


def test_every_feature_job_is_scheduled_with_its_grace_and_coalescing(app):
    scheduler = build_scheduler(app)
    specs = {spec.id: spec for spec in app.extensions["exchange.jobs"]}
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(specs)
    assert {"notify.sweep_outbox", "notify.sweep_urgent", "notify.purge_delivered"} <= set(jobs)
    for job_id, job in jobs.items():
        assert job.misfire_grace_time == specs[job_id].misfire_grace_time
        assert job.coalesce is True
        assert job.max_instances == 1
    assert str(scheduler.timezone) == "UTC"


def test_trigger_arguments_can_name_a_setting(app):
    app.config["EXCHANGE"]["scheduler"]["sweep_seconds"] = 17
    job = build_scheduler(app).get_job("notify.sweep_outbox")
    assert job.trigger.interval.total_seconds() == 17


def test_a_job_run_commits_its_work(app):
    spec = JobSpec("test.writes", lambda: record("test.job_ran"), "interval", {"seconds": 60})
    run_job(app, spec)
    db.session.expire_all()
    assert db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "test.job_ran")
    ).all()


def test_a_failing_job_is_rolled_back_and_logged_by_id(app, caplog):
    def fails() -> None:
        record("test.half_done")
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        run_job(app, JobSpec("test.fails", fails, "interval", {"seconds": 60}))
    db.session.expire_all()
    assert not db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "test.half_done")
    ).all()
    assert "test.fails" in caplog.text


def test_runtime_starts_and_stops_a_background_scheduler(app):
    runtime = DeliveryRuntime(app)
    app.config["EXCHANGE"]["scheduler"]["enabled"] = True
    runtime.start()
    try:
        assert isinstance(runtime.scheduler, BackgroundScheduler)
        assert runtime.scheduler.running
    finally:
        runtime.stop()
    assert not runtime.running


def test_urgent_rows_go_out_right_after_commit(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    urgent = UrgentDispatch(app)
    urgent.start()
    try:
        notify_by_email([alice], event="attack", urgent=True)
        deadline = time.monotonic() + 20
        while not mailbox.to("alice@example.org") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        urgent.stop()
    (message,) = mailbox.to("alice@example.org")
    assert message["Importance"] == "high"


def test_ordinary_rows_wait_for_the_sweep(app, members, mailbox):
    alice = members.make(email="alice@example.org")
    urgent = UrgentDispatch(app)
    urgent.start()
    try:
        notify_by_email([alice], event="reply", urgent=False)
    finally:
        urgent.stop()  # waits for anything submitted
    assert mailbox.messages == []
