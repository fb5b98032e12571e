"""Issue 9 item 10: per-member limits on creating content, set in [limits], counted from the
database (every process sees the same count), enforced in the services; the form comes back
with the member's text and one plain sentence."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import func, select

from forum.alerts.models import Alert
from forum.calls.models import CallSeries
from forum.config import ConfigError, load_settings
from forum.errors import Invalid
from forum.extensions import db
from forum.members import vetting
from forum.members.models import Nomination
from forum.threads import services as thread_services
from forum.threads.errors import ThreadError
from forum.threads.models import Thread

ALERT = {
    "kind": "attack",
    "severity": "critical",
    "title": "Shooting at concert hall",
    "city": "Lyon",
    "country": "fr",
    "occurred_at": "2026-11-28T15:00",
    "needs": "Interpreters",
}
CALL = {
    "title": "Emergency coordination",
    "day": "2027-01-15",
    "start_time": "09:30",
    "timezone": "UTC",
    "duration_minutes": "45",
}


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_fourth_urgent_alert_within_the_hour_is_refused_with_the_form_kept(
    app, members, make_browser
):
    raiser = members.make()
    browser = make_browser(raiser)
    for n in range(3):
        assert browser.post("/alerts/new", {**ALERT, "title": f"Alert {n}"}).status_code == 302
    refused = browser.post("/alerts/new", {**ALERT, "title": "One alert too many"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "You have raised 3 alerts in the last hour, the most one member may." in page
    assert 'value="One alert too many"' in page
    assert _count(Alert) == 3
    # Another member is not held back by the first one's count.
    assert make_browser(members.make()).post("/alerts/new", ALERT).status_code == 302


def test_coordinators_get_the_multiplier_and_zero_means_no_limit(app, members, make_browser):
    current_app.config["EXCHANGE"]["limits"]["alerts_per_hour"] = 1
    coordinator = make_browser(members.coordinator())
    for n in range(3):
        assert coordinator.post("/alerts/new", {**ALERT, "title": f"C {n}"}).status_code == 302
    assert coordinator.post("/alerts/new", ALERT).status_code == 422
    current_app.config["EXCHANGE"]["limits"]["alerts_per_hour"] = 0
    assert coordinator.post("/alerts/new", ALERT).status_code == 302


def test_threads_per_hour_counts_member_threads_only(app, members, make_browser):
    current_app.config["EXCHANGE"]["limits"]["threads_per_hour"] = 2
    author = members.make()
    category = thread_services.ensure_default_categories()[0]
    db.session.commit()
    browser = make_browser(author)
    form = {"category": category.id, "label": "AMBER", "body": "What we learned."}
    for n in range(2):
        assert browser.post("/threads/new", {**form, "title": f"T{n}"}).status_code == 302
    refused = browser.post("/threads/new", {**form, "title": "Third thread"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "You have started 2 threads in the last hour" in page
    assert 'value="Third thread"' in page and "What we learned." in page
    # A thread that an alert or a call opens is part of that flow, not a thread of the member.
    thread_services.start_thread(
        author=author,
        category=category,
        title="Coordination",
        body="x",
        label="AMBER",
        origin="alert:test",
    )
    with pytest.raises(ThreadError):
        thread_services.start_thread(
            author=author, category=category, title="Again", body="x", label="AMBER"
        )
    assert _count(Thread) == 3


def test_adhoc_calls_per_day_are_limited(app, members, make_browser):
    current_app.config["EXCHANGE"]["limits"]["adhoc_calls_per_day"] = 1
    browser = make_browser(members.make())
    assert browser.post("/calls/adhoc/new", CALL).status_code == 302
    refused = browser.post("/calls/adhoc/new", {**CALL, "title": "Second call today"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "You have called 1 ad-hoc calls in the last 24 hours" in page
    assert 'value="Second call today"' in page
    assert _count(CallSeries) == 1


def test_nominations_per_day_are_limited(app, members, make_browser):
    current_app.config["EXCHANGE"]["limits"]["nominations_per_day"] = 2
    nominator = members.make()
    for n in range(2):
        vetting.nominate(
            nominator, email=f"n{n}@example.org", name=f"N {n}", organisation_name="", reason="r"
        )
    db.session.commit()
    with pytest.raises(Invalid, match="You have nominated 2 people in the last 24 hours"):
        vetting.nominate(
            nominator, email="n9@example.org", name="N 9", organisation_name="", reason="r"
        )
    db.session.rollback()
    page = make_browser(nominator).post(
        "/nominate",
        {"name": "Kept Name", "email": "kept@example.org", "organisation": "", "reason": "kept"},
    )
    assert page.status_code == 422 and "You have nominated 2 people" in page.get_data(as_text=True)
    assert 'value="Kept Name"' in page.get_data(as_text=True)
    assert _count(Nomination) == 2


def test_a_negative_limit_stops_the_start_with_one_sentence(app):
    secret = "s3cret-" + "abcdefghijklmnopqrstuvwxyz0123456789"
    with pytest.raises(ConfigError, match="limits.alerts_per_hour"):
        load_settings(
            overrides={"app": {"secret_key": secret}, "limits": {"alerts_per_hour": -1}},
            environ={},
        )
