"""Issue 9, item 2: the emergency call of an alert narrowed to one country is for the alert's
audience only — announcement, page, dial-in, .ics, series page, calls list and reminders; anyone
else gets the same 404 as for a call that does not exist."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.alerts import coordination
from forum.calls import ical, reminders
from forum.calls.models import Occurrence
from forum.db import utcnow
from forum.extensions import db
from forum.notify.models import Notification
from tests.support.alerts import raise_alert

EMERGENCY_DIAL_IN = "Bridge +33 1 555 0147 PIN 771204#"
MISSING = "0123456789abcdef0123456789abcdef"


def _emergency_call(members):
    coordinator = members.coordinator(name="Ana Coordinator", country="BE")
    raiser = members.make(name="Raiser Rose", country="FR")
    french = members.make(name="Camille Durand", country="FR")
    belgian = members.make(name="Lotte Peeters", country="BE")
    alert = raise_alert(raiser, country="FR", city="Lyon", countries=["FR"])
    occurrence = coordination.start_call(
        coordinator,
        alert.id,
        starts_at=(utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0),
        joining_details=EMERGENCY_DIAL_IN,
    )
    db.session.commit()
    return (
        alert,
        occurrence,
        {"coordinator": coordinator, "raiser": raiser, "fr": french, "be": belgian},
    )


def test_the_emergency_call_is_announced_to_the_alerts_audience_only(members):
    _alert, occurrence, who = _emergency_call(members)
    told = set(
        db.session.scalars(
            select(Notification.member_id).where(
                Notification.kind == "call", Notification.link.contains(occurrence.id)
            )
        )
    )
    assert who["fr"].id in told and who["raiser"].id in told and who["coordinator"].id in told
    assert who["be"].id not in told


def test_only_the_alerts_audience_opens_the_call_others_get_a_missing_ids_404(
    members, make_browser
):
    alert, occurrence, who = _emergency_call(members)
    browser = make_browser(who["be"])
    assert browser.get(f"/alerts/{alert.id}").status_code == 404
    missing = browser.get(f"/calls/occurrences/{MISSING}")
    hidden = browser.get(f"/calls/occurrences/{occurrence.id}")
    assert hidden.status_code == 404 == missing.status_code
    assert browser.page_bytes(hidden) == browser.page_bytes(missing)
    assert browser.get(f"/calls/occurrences/{occurrence.id}.ics").status_code == 404
    assert browser.get(f"/calls/series/{occurrence.series_id}").status_code == 404
    assert (
        browser.post(
            f"/calls/occurrences/{occurrence.id}/rsvp", {"answer": "attending"}
        ).status_code
        == 404
    )
    listing = browser.get("/calls").get_data(as_text=True)
    assert occurrence.id not in listing and "Emergency call" not in listing
    for role in ("fr", "raiser", "coordinator"):
        allowed = make_browser(who[role])
        assert allowed.get(f"/alerts/{alert.id}").status_code == 200
        page = allowed.get(f"/calls/occurrences/{occurrence.id}")
        assert page.status_code == 200, role
        assert "771204" in page.get_data(as_text=True)
        assert occurrence.id in allowed.get("/calls").get_data(as_text=True)


def test_reminders_of_the_emergency_call_reach_the_audience_only(members):
    _alert, occurrence, who = _emergency_call(members)
    found = db.session.get(Occurrence, occurrence.id)
    reminders.sweep(now=found.starts_at - timedelta(minutes=59))
    db.session.commit()
    reminded = set(
        db.session.scalars(
            select(Notification.member_id).where(Notification.kind == "call_reminder")
        )
    )
    assert who["fr"].id in reminded and who["be"].id not in reminded


def test_the_emergency_call_is_in_the_feed_of_the_alerts_audience_only(members):
    _alert, occurrence, who = _emergency_call(members)
    outside = ical.feed_ics(who["be"]).decode()
    inside = ical.feed_ics(who["fr"]).decode()
    assert occurrence.id not in outside
    assert occurrence.id in inside
