"""The calls pages as a member and an organiser see them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from forum.calls.models import AgendaItem, CallResponse, CallSeries, Occurrence
from forum.extensions import db
from forum.members.models import Member
from tests.support.calls import DIAL_IN


def first(series) -> Occurrence:
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


SERIES_FORM = {
    "title": "Monthly exchange",
    "description": "",
    "joining_details": "https://meet.example.org/room-9",
    "timezone": "Europe/Brussels",
    "pattern": "nth_weekday",
    "ordinal": "2",
    "weekday": "3",
    "day_of_month": "",
    "time_of_day": "14:00",
    "rotation_time": "",
    "duration_minutes": "60",
    "starts_on": "2027-01-01",
    "reminders": ["10080", "60"],
}


def test_preview_shows_six_dates_in_both_zones_and_saves_nothing(members, make_browser):
    coordinator = members.coordinator(timezone="America/New_York")
    page = make_browser(coordinator).post(
        "/calls/series/new", {**SERIES_FORM, "preview": "Preview"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "the second Thursday of every month at 14:00 Europe/Brussels" in html
    assert "Thu 14 Jan 2027, 14:00 CET" in html  # the organiser's wall clock
    assert "Thu 14 Jan 2027, 08:00 EST" in html  # the viewer's
    assert len(re.findall(r"<tr><td[ >]", html)) == 6  # cells carry data-label for phones
    assert 'value="Monthly exchange"' in html, "the form keeps what was typed"
    assert db.session.scalars(select(CallSeries)).all() == []


def test_preview_shows_the_fair_rotation(members, make_browser):
    coordinator = members.coordinator(timezone="UTC")
    form = {**SERIES_FORM, "timezone": "UTC", "time_of_day": "09:00", "rotation_time": "16:00"}
    html = (
        make_browser(coordinator)
        .post("/calls/series/new", {**form, "preview": "Preview"})
        .get_data(as_text=True)
    )
    times = re.findall(r"2027, (\d\d:\d\d) UTC</td><td[^>]*>", html)
    assert times == ["09:00", "16:00", "09:00", "16:00", "09:00", "16:00"]


def test_saving_creates_the_series_and_its_calls(members, make_browser):
    coordinator = members.coordinator()
    response = make_browser(coordinator).post("/calls/series/new", {**SERIES_FORM, "save": "Save"})
    assert response.status_code == 302
    series = db.session.scalars(select(CallSeries)).one()
    assert series.title == "Monthly exchange"
    assert len(db.session.scalars(select(Occurrence)).all()) >= 5


def test_a_form_with_an_error_comes_back_422_with_the_text_kept(members, make_browser):
    coordinator = members.coordinator()
    response = make_browser(coordinator).post(
        "/calls/series/new",
        {**SERIES_FORM, "time_of_day": "", "title": "Kept title", "save": "Save"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give a time of day like 14:00." in html
    assert 'value="Kept title"' in html


def test_a_member_may_not_create_a_series(members, make_browser):
    assert make_browser(members.make()).get("/calls/series/new").status_code == 403


def test_member_sees_joining_details_on_the_page_and_the_calls_list(monthly, members, make_browser):
    member = members.make(timezone="Asia/Tokyo")
    browser = make_browser(member)
    occurrence = first(monthly)
    index = browser.get("/calls").get_data(as_text=True)
    assert "INVICTM monthly call" in index
    assert "Thu 10 Dec 2026, 22:00 JST" in index and "(14:00 CET in Europe/Brussels)" in index
    page = browser.get(f"/calls/occurrences/{occurrence.id}").get_data(as_text=True)
    assert DIAL_IN.split(",")[0] in page


def test_anonymous_and_suspended_visitors_see_nothing(monthly, members, browser, make_browser):
    occurrence = first(monthly)
    anonymous = browser.get(f"/calls/occurrences/{occurrence.id}")
    assert anonymous.status_code == 302 and "483920" not in anonymous.get_data(as_text=True)
    suspended = members.make()
    signed_in = make_browser(suspended)
    suspended.status = "suspended"
    db.session.commit()
    response = signed_in.get(f"/calls/occurrences/{occurrence.id}")
    assert response.status_code in (302, 404)
    assert "483920" not in response.get_data(as_text=True)
    assert browser.get(f"/calls/occurrences/{occurrence.id}.ics").status_code == 302


def test_rsvp_and_who_is_coming_by_country(monthly, members, make_browser):
    belgian = members.make(name="Lotte Peeters", country="BE")
    french = members.make(name="Camille Durand", country="FR")
    occurrence = first(monthly)
    assert (
        make_browser(belgian)
        .post(f"/calls/occurrences/{occurrence.id}/rsvp", {"answer": "attending"})
        .status_code
        == 302
    )
    make_browser(french).post(f"/calls/occurrences/{occurrence.id}/rsvp", {"answer": "maybe"})
    answers = dict(db.session.execute(select(CallResponse.member_id, CallResponse.answer)).all())
    assert answers == {belgian.id: "attending", french.id: "maybe"}
    page = make_browser(french).get(f"/calls/occurrences/{occurrence.id}").get_data(as_text=True)
    assert "<strong>BE</strong> (1): Lotte Peeters" in page
    assert "Not answered yet" not in page, "only organisers see who has not answered"
    organiser = db.session.get(Member, monthly.created_by_id)
    organiser_page = (
        make_browser(organiser).get(f"/calls/occurrences/{occurrence.id}").get_data(as_text=True)
    )
    assert "Not answered yet (1)" in organiser_page and "Ana Coordinator" in organiser_page


def test_an_invalid_rsvp_is_refused_with_422(monthly, members, make_browser):
    occurrence = first(monthly)
    response = make_browser(members.make()).post(
        f"/calls/occurrences/{occurrence.id}/rsvp", {"answer": "perhaps"}
    )
    assert response.status_code == 422
    assert db.session.scalars(select(CallResponse)).all() == []


def test_members_propose_agenda_items_and_organisers_accept_them(monthly, members, make_browser):
    proposer = members.make()
    other = members.make()
    occurrence = first(monthly)
    make_browser(proposer).post(
        f"/calls/occurrences/{occurrence.id}/agenda",
        {
            "title": "Identification of victims abroad",
            "description": "10 min",
            "presenter": "Lotte",
        },
    )
    item = db.session.scalars(select(AgendaItem)).one()
    assert item.status == "proposed"
    assert "Identification of victims" not in make_browser(other).get(
        f"/calls/occurrences/{occurrence.id}"
    ).get_data(as_text=True)
    refused = make_browser(other).post(f"/calls/agenda/{item.id}/decide", {"status": "accepted"})
    assert refused.status_code == 403
    organiser = db.session.get(Member, monthly.created_by_id)
    make_browser(organiser).post(
        f"/calls/agenda/{item.id}/decide", {"status": "accepted", "minutes_allotted": "15"}
    )
    db.session.refresh(item)
    assert item.status == "accepted" and item.minutes_allotted == 15
    page = make_browser(other).get(f"/calls/occurrences/{occurrence.id}").get_data(as_text=True)
    assert "Identification of victims abroad" in page and "(15 min)" in page


def test_organiser_moves_a_call_through_the_page(monthly, make_browser):
    organiser = db.session.get(CallSeries, monthly.id).created_by_id
    browser = make_browser(db.session.get(Member, organiser))
    occurrence = first(monthly)
    response = browser.post(
        f"/calls/occurrences/{occurrence.id}/move",
        {
            "day": "2026-12-11",
            "start_time": "10:00",
            "timezone": "Europe/Brussels",
            "duration_minutes": "90",
        },
    )
    assert response.status_code == 302
    db.session.refresh(occurrence)
    assert occurrence.is_modified and occurrence.sequence == 1
    assert occurrence.starts_at.isoformat() == "2026-12-11T09:00:00+00:00"


def test_member_schedules_an_adhoc_call_from_the_page(members, make_browser):
    member = members.make(timezone="America/New_York")
    browser = make_browser(member)
    form = browser.get("/calls/adhoc/new").get_data(as_text=True)
    assert 'value="America/New_York" selected' in form or "America/New_York" in form
    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=2)).date()
    response = browser.post(
        "/calls/adhoc/new",
        {
            "title": "Emergency coordination",
            "day": day.isoformat(),
            "start_time": "09:30",
            "timezone": "America/New_York",
            "duration_minutes": "45",
            "joining_details": "https://meet.example.org/e",
        },
    )
    assert response.status_code == 302
    occurrence = db.session.scalars(select(Occurrence)).one()
    expected = datetime.combine(day, time(9, 30), tzinfo=ZoneInfo("America/New_York"))
    assert occurrence.starts_at == expected.astimezone(UTC)
    assert occurrence.series.kind == "adhoc"


def test_an_adhoc_call_without_a_title_comes_back_422(members, make_browser):
    response = make_browser(members.make()).post(
        "/calls/adhoc/new",
        {
            "title": "",
            "day": "2026-12-02",
            "start_time": "09:30",
            "timezone": "UTC",
            "duration_minutes": "45",
        },
    )
    assert response.status_code == 422
    assert "Please give the call a title." in response.get_data(as_text=True)


def test_coordinator_creates_the_annual_symposium(members, make_browser):
    response = make_browser(members.coordinator()).post(
        "/calls/events/new",
        {
            "title": "Annual symposium",
            "place": "Brussels",
            "programme": "Day 1",
            "start_day": "2027-06-14",
            "start_time": "09:00",
            "end_day": "2027-06-16",
            "end_time": "17:00",
            "timezone": "Europe/Brussels",
        },
    )
    assert response.status_code == 302
    occurrence = db.session.scalars(select(Occurrence)).one()
    assert (occurrence.ends_at - occurrence.starts_at).days == 2
    page = (
        make_browser(members.make())
        .get(f"/calls/occurrences/{occurrence.id}")
        .get_data(as_text=True)
    )
    assert "Brussels" in page and "Day 1" in page


def test_an_event_that_ends_before_it_starts_is_refused(members, make_browser):
    response = make_browser(members.coordinator()).post(
        "/calls/events/new",
        {
            "title": "Backwards",
            "start_day": "2027-06-14",
            "start_time": "09:00",
            "end_day": "2027-06-13",
            "end_time": "17:00",
            "timezone": "Europe/Brussels",
        },
    )
    assert response.status_code == 422
    assert "An event ends after it starts." in response.get_data(as_text=True)


def test_organiser_changes_the_series_through_the_page(monthly, make_browser):
    organiser = db.session.get(Member, monthly.created_by_id)
    browser = make_browser(organiser)
    form = browser.get(f"/calls/series/{monthly.id}/edit").get_data(as_text=True)
    assert 'value="INVICTM monthly call"' in form
    response = browser.post(
        f"/calls/series/{monthly.id}/edit",
        {
            **SERIES_FORM,
            "title": "INVICTM monthly call",
            "starts_on": "2026-11-28",
            "time_of_day": "15:00",
            "save": "Save",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    times = {
        o.starts_at.astimezone(ZoneInfo("Europe/Brussels")).hour
        for o in db.session.scalars(select(Occurrence))
    }
    assert times == {15}


def test_a_member_who_does_not_organise_cannot_open_the_change_form(monthly, members, make_browser):
    assert make_browser(members.make()).get(f"/calls/series/{monthly.id}/edit").status_code == 403
    assert (
        make_browser(members.make())
        .get(f"/calls/occurrences/{first(monthly).id}/manage")
        .status_code
        == 403
    )
