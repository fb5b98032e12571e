"""The start page (issue 12): the place a member looks first. Open alerts with her own answer,
her next call with her RSVP, the threads she has not read and her open action items, each with
an empty state in plain words and a link to the full list — and nothing she may not see."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from forum.alerts import coordination
from forum.alerts import services as alert_services
from forum.calls import minutes as call_minutes
from forum.calls import occurrences, participation
from forum.calls import services as call_services
from forum.db import utcnow
from forum.extensions import db
from forum.markup import tlp
from tests.support.alerts import raise_alert
from tests.support.threads import Threads


def _section(html: str, name: str) -> str:
    """The visible text of one section of the start page (#home-<name>), tags removed."""
    match = re.search(rf'<section[^>]*id="home-{name}".*?</section>', html, re.S)
    assert match, f"the start page has a {name} section"
    text = re.sub(r"<[^>]+>", " ", match.group(0))
    return " ".join(text.split())


def _links(html: str, name: str) -> list[str]:
    match = re.search(rf'<section[^>]*id="home-{name}".*?</section>', html, re.S)
    assert match
    return re.findall(r'href="([^"]+)"', match.group(0))


def _home(make_browser: Any, member: Any) -> str:
    response = make_browser(member).get("/")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def test_start_page_shows_open_alerts_with_own_answer_the_next_call_unread_threads_and_actions(
    app: Any, members: Any, make_browser: Any
) -> None:
    anna = members.make(name="Anna Responder", country="BE")
    raiser = members.make(name="Rolf Raiser", country="BE")
    answered = raise_alert(raiser, title="Explosion at the harbour", countries=["BE"])
    waiting = raise_alert(raiser, title="Fire at the stadium", countries=["BE"])
    alert_services.answer_alert(anna, answered.id, "can_help")
    call = call_services.create_adhoc_call(
        organiser=raiser,
        title="Coordination call on the harbour",
        starts_at=utcnow() + timedelta(hours=3),
        duration_minutes=60,
    )
    participation.respond(call, member=anna, answer="maybe")
    call_minutes.write_minutes(
        call,
        actor=raiser,
        body="Who does what.",
        label=tlp.AMBER,
        action_items=[
            call_minutes.ActionInput(text="Send the list of interpreters", owner=anna),
            call_minutes.ActionInput(text="Book the room", owner=raiser),
        ],
    )
    db.session.commit()
    thread = Threads().start(raiser, title="Families after the harbour explosion")

    html = _home(make_browser, anna)

    alerts = _section(html, "alerts")
    assert "Explosion at the harbour" in alerts and "Your answer: I can help" in alerts
    assert "Fire at the stadium" in alerts and "You have not answered yet" in alerts
    assert f"/alerts/{answered.id}" in _links(html, "alerts")
    assert "/alerts" in _links(html, "alerts")  # the full register
    assert alerts.index("Fire at the stadium") < alerts.index("Explosion at the harbour")
    forms = re.findall(r'<form method="post" action="([^"]+)"', html.split('id="home-alerts"')[1])
    assert f"/alerts/{waiting.id}/answer" in forms  # one tap from the start page
    assert f"/alerts/{answered.id}/answer" not in forms

    next_call = _section(html, "call")
    assert "Coordination call on the harbour" in next_call and "Your answer: Maybe" in next_call
    assert f"/calls/occurrences/{call.id}" in _links(html, "call")

    unread = _section(html, "threads")
    assert "Families after the harbour explosion" in unread and "new" in unread
    assert f"/threads/{thread.id}" in _links(html, "threads")

    actions = _section(html, "actions")
    assert "Send the list of interpreters" in actions
    assert "Book the room" not in actions  # somebody else's


def test_one_tap_on_the_start_page_records_the_answer_it_then_shows(
    app: Any, members: Any, make_browser: Any
) -> None:
    member = members.make(country="BE")
    alert = raise_alert(members.make(country="BE"), title="Flood alert", countries=["BE"])
    browser = make_browser(member)

    answered = browser.post(f"/alerts/{alert.id}/answer", {"answer": "seen"})
    assert answered.status_code == 303
    alerts = _section(browser.get("/").get_data(as_text=True), "alerts")
    assert "Flood alert" in alerts and "Your answer: Seen" in alerts


def test_start_page_says_plainly_when_there_is_nothing_and_links_to_every_full_list(
    app: Any, members: Any, make_browser: Any
) -> None:
    html = _home(make_browser, members.make())

    assert "No alert is open" in _section(html, "alerts")
    assert "No call is scheduled" in _section(html, "call")
    assert "Nothing new in the threads" in _section(html, "threads")
    assert "No action item is waiting for you" in _section(html, "actions")
    assert "/alerts" in _links(html, "alerts")
    assert "/calls" in _links(html, "call")
    assert "/threads" in _links(html, "threads")


def test_a_member_outside_an_alerts_audience_does_not_see_it_on_the_start_page(
    app: Any, members: Any, make_browser: Any
) -> None:
    raiser = members.make(country="BE")
    outsider = members.make(name="Olga Outside", country="FR")
    insider = members.make(country="BE")
    alert = raise_alert(raiser, title="Belgian-only alert", countries=["BE"])

    outside = _home(make_browser, outsider)
    assert "Belgian-only alert" not in outside and alert.id not in outside
    assert "No alert is open" in _section(outside, "alerts")
    assert "Belgian-only alert" in _home(make_browser, insider)


def test_a_closed_alert_and_a_cancelled_or_past_call_leave_the_start_page(
    app: Any, members: Any, make_browser: Any
) -> None:
    coordinator = members.coordinator()
    member = members.make(country="BE")
    alert = raise_alert(coordinator, title="Resolved alert", countries=["BE"])
    coordination.resolve(coordinator, alert.id, note="Over.")
    call = call_services.create_adhoc_call(
        organiser=coordinator,
        title="Call that will not happen",
        starts_at=utcnow() + timedelta(hours=1),
        duration_minutes=30,
    )
    occurrences.cancel_occurrence(call, actor=coordinator)
    db.session.commit()

    html = _home(make_browser, member)
    assert "Resolved alert" not in html
    assert "Call that will not happen" not in _section(html, "call")
    assert "No call is scheduled" in _section(html, "call")


def test_a_red_thread_the_member_is_not_on_is_not_listed_as_unread(
    app: Any, members: Any, make_browser: Any
) -> None:
    author = members.make()
    participant = members.make()
    stranger = members.make()
    Threads().start(author, label=tlp.RED, title="Red thread title", participants=[participant])

    assert "Red thread title" not in _home(make_browser, stranger)
    assert "Nothing new in the threads" in _section(_home(make_browser, stranger), "threads")
    assert "Red thread title" in _section(_home(make_browser, participant), "threads")
