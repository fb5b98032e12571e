"""Issue 10, items 13 and 17 (calls): plain words at the field, nothing typed lost — an RSVP
without a choice, a call scheduled in the past — and the series sentence written properly."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from forum.calls import participation
from forum.calls.models import CallResponse, Occurrence
from forum.extensions import db
from forum.notify.models import Notification


def first(series) -> Occurrence:
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


def _section(page: str, anchor: str) -> str:
    match = re.search(rf'<section class="card" id="{anchor}">(.*?)</section>', page, re.S)
    assert match, f"the page has its {anchor} section"
    return match.group(1)


def test_an_rsvp_without_a_choice_says_so_at_the_field_and_keeps_the_answer(
    monthly, members, make_browser
):
    member = members.make()
    occurrence = first(monthly)
    participation.respond(occurrence, member=member, answer="maybe")
    db.session.commit()
    response = make_browser(member).post(f"/calls/occurrences/{occurrence.id}/rsvp", {})
    assert response.status_code == 422
    rsvp = _section(response.get_data(as_text=True), "rsvp")
    # The sentence sits at the field, and the browser lands on it instead of the page's top;
    # the server's words are shown, not a native bubble.
    assert '<ul class="field-error"><li>Choose an answer.</li></ul>' in rsvp
    form = re.search(r"<form [^>]*>", rsvp).group(0)
    assert 'action="/calls/occurrences/' in form and '/rsvp#rsvp"' in form
    assert "novalidate" in form
    assert db.session.scalars(
        select(CallResponse.answer).where(CallResponse.member_id == member.id)
    ).all() == ["maybe"]


def _adhoc_form(day: str, start: str, title: str = "Coordination after Lyon") -> dict[str, str]:
    return {
        "title": title,
        "description": "Who can send psychologists",
        "day": day,
        "start_time": start,
        "timezone": "Europe/Brussels",
        "duration_minutes": "45",
        "joining_details": "https://meet.example.org/lyon",
    }


def test_a_call_in_the_past_is_refused_at_its_start_with_the_text_kept(members, make_browser):
    yesterday = (datetime.now(ZoneInfo("Europe/Brussels")) - timedelta(days=1)).date()
    response = make_browser(members.make()).post(
        "/calls/adhoc/new", _adhoc_form(yesterday.isoformat(), "09:30")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    start_field = re.search(r'<label for="start_time".*?</div>', page, re.S).group(0)
    assert "That start has already passed. Choose a date and time in the future." in start_field
    assert 'value="Coordination after Lyon"' in page and "Who can send psychologists" in page
    assert "https://meet.example.org/lyon" in page
    assert db.session.scalars(select(Occurrence)).all() == []
    assert db.session.scalars(select(Notification)).all() == []


def test_an_event_in_the_past_is_refused_at_its_start(members, make_browser):
    response = make_browser(members.coordinator()).post(
        "/calls/events/new",
        {
            "title": "Annual symposium",
            "place": "Brussels",
            "programme": "Day 1",
            "start_day": "2020-06-14",
            "start_time": "09:00",
            "end_day": "2020-06-16",
            "end_time": "17:00",
            "timezone": "Europe/Brussels",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    start_field = re.search(r'<label for="start_time".*?</div>', page, re.S).group(0)
    assert "That start has already passed." in start_field
    assert 'value="Annual symposium"' in page
    assert db.session.scalars(select(Occurrence)).all() == []


def test_a_call_starting_now_is_still_accepted(members, make_browser):
    now = datetime.now(ZoneInfo("Europe/Brussels"))
    response = make_browser(members.make()).post(
        "/calls/adhoc/new", _adhoc_form(now.date().isoformat(), now.strftime("%H:%M"))
    )
    assert response.status_code == 302


def test_the_series_sentence_capitalises_the_weekday_and_names_the_zone(
    monthly, members, make_browser
):
    page = make_browser(members.make()).get(f"/calls/series/{monthly.id}").get_data(as_text=True)
    assert "The second Thursday of every month at 14:00 Europe/Brussels." in page
    assert "thursday" not in page and "europe/brussels" not in page
