"""Issue 9, item 1: one deny-by-default policy decides every calls route. A role x object
matrix over the real pages, and a sweep that turns the policy's one gate off and finds every
calls route closed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.alerts import coordination
from forum.calls import ical, minutes, occurrences, participation, policy, services
from forum.calls.models import Occurrence
from forum.db import utcnow
from forum.extensions import db
from tests.support.alerts import raise_alert
from tests.support.calls import DIAL_IN, monthly_fields

RED = "RED-CANARY-4471-minutes"
AMBER = "AMBER-CANARY-9023-minutes"
SERIES_TITLE = "Matrix monthly call"
EMERGENCY_PIN = "PIN 660318#"
ROLES = ("anonymous", "suspended", "member", "attendee", "organiser", "coordinator")

# What each role finds on each object: True = the page opens with the object's content.
EXPECTED = {
    "series": {"member", "attendee", "organiser", "coordinator"},
    "occurrence": {"member", "attendee", "organiser", "coordinator"},
    "past occurrence": {"member", "attendee", "organiser", "coordinator"},
    "dial-in": {"member", "attendee", "organiser", "coordinator"},
    "AMBER minutes": {"member", "attendee", "organiser", "coordinator"},
    "RED minutes": {"attendee", "organiser", "coordinator"},
    "emergency call of a restricted alert": {"coordinator"},
}


@pytest.fixture
def world(members, make_browser, browser):
    creator = members.coordinator(name="Creator Coordinator")
    organiser = members.make(name="Olga Organiser")
    attendee = members.make(name="Attending Alice")
    member = members.make(name="Member Max")
    coordinator = members.coordinator(name="Other Coordinator")
    suspended = members.make(name="Suspended Sam")
    series = services.create_series(
        actor=creator,
        fields=monthly_fields(title=SERIES_TITLE, starts_at=utcnow()),
        organisers=[organiser],
        now=utcnow(),
    )
    db.session.commit()
    calls = list(
        db.session.scalars(
            select(Occurrence)
            .where(Occurrence.series_id == series.id)
            .order_by(Occurrence.starts_at)
        )
    )
    upcoming, red_call, amber_call = calls[0], calls[1], calls[2]
    # The member said "attending" while the call was ahead; only the attendee is recorded.
    participation.respond(red_call, member=member, answer="attending")
    participation.respond(red_call, member=attendee, answer="attending")
    for hours, call in ((3, red_call), (6, amber_call)):
        occurrences.move_occurrence(
            call, actor=organiser, starts_at=utcnow() - timedelta(hours=hours), duration_minutes=60
        )
    participation.record_attendance(red_call, actor=organiser, attended=[attendee.id])
    minutes.write_minutes(red_call, actor=organiser, body=RED, label="RED")
    minutes.write_minutes(amber_call, actor=organiser, body=AMBER, label="AMBER")
    raiser = members.make(name="Raiser Rose", country="FR")
    alert = raise_alert(raiser, country="FR", countries=["FR"])
    emergency = coordination.start_call(
        creator,
        alert.id,
        starts_at=(utcnow() + timedelta(hours=1)).replace(second=0, microsecond=0),
        joining_details=EMERGENCY_PIN,
    )
    db.session.commit()
    people = {
        "member": member,
        "attendee": attendee,
        "organiser": organiser,
        "coordinator": coordinator,
        "suspended": suspended,
    }
    browsers = {"anonymous": browser, **{role: make_browser(m) for role, m in people.items()}}
    suspended.status = "suspended"
    db.session.commit()
    objects = {
        "series": (f"/calls/series/{series.id}", SERIES_TITLE),
        "occurrence": (f"/calls/occurrences/{upcoming.id}", SERIES_TITLE),
        "past occurrence": (f"/calls/occurrences/{amber_call.id}", SERIES_TITLE),
        "dial-in": (f"/calls/occurrences/{upcoming.id}", DIAL_IN),
        "AMBER minutes": (f"/calls/occurrences/{amber_call.id}", AMBER),
        "RED minutes": (f"/calls/occurrences/{red_call.id}", RED),
        "emergency call of a restricted alert": (
            f"/calls/occurrences/{emergency.id}",
            EMERGENCY_PIN,
        ),
    }
    return browsers, people, objects, red_call


def test_role_by_object_matrix(world):
    """Each role on each object: the content opens exactly where EXPECTED says; elsewhere the
    page is a sign-in redirect or a 404 (a page a role may see still hides RED minutes)."""
    browsers, _people, objects, _past = world
    wrong = []
    for thing, (url, canary) in objects.items():
        for role in ROLES:
            response = browsers[role].get(url)
            shown = response.status_code == 200 and canary in response.get_data(as_text=True)
            if shown != (role in EXPECTED[thing]):
                wrong.append((role, thing, response.status_code, shown))
            if not shown and role in ("anonymous", "suspended"):
                assert response.status_code in (302, 404), (role, thing)
            if not shown and thing == "emergency call of a restricted alert":
                assert response.status_code in (302, 404), (role, thing)
    assert wrong == []


def test_nobody_answers_a_call_that_has_started(world):
    browsers, people, _objects, past = world
    before = {role: participation.answer_of(past, m) for role, m in people.items()}
    for role in ROLES:
        response = browsers[role].post(f"/calls/occurrences/{past.id}/rsvp", {"answer": "maybe"})
        expected = (302, 404) if role in ("anonymous", "suspended") else (422,)
        assert response.status_code in expected, role
    db.session.expire_all()
    assert {role: participation.answer_of(past, m) for role, m in people.items()} == before


def _route_urls(app, ids):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("calls."):
            continue
        values = {a: ids.get((rule.endpoint, a), ids.get(a)) for a in rule.arguments}
        for method in sorted({"GET", "POST"} & set(rule.methods)):
            yield rule.endpoint, method, rule.build(values, append_unknown=False)[1]


def test_with_the_policy_gate_shut_every_calls_route_is_closed(
    app, members, make_browser, monkeypatch
):
    """Deny by default: turn off the one gate every answer passes, and every calls route,
    GET or POST, refuses an active coordinator who organises the call."""
    coordinator = members.coordinator(name="Gate Keeper")
    series = services.create_series(
        actor=coordinator, fields=monthly_fields(starts_at=utcnow()), now=utcnow()
    )
    occurrence = db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()
    item = participation.propose_item(occurrence, member=coordinator, title="Item")
    written = minutes.write_minutes(
        occurrence,
        actor=coordinator,
        body="Notes",
        label="AMBER",
        action_items=[minutes.ActionInput("Do it", coordinator)],
    )
    token = ical.issue_feed_token(coordinator)
    db.session.commit()
    ids = {
        "series_id": series.id,
        "occurrence_id": occurrence.id,
        "item_id": item.id,
        ("calls.action_done", "item_id"): written.action_items[0].id,
        "token": token,
    }
    browser = make_browser(coordinator)
    assert browser.get(f"/calls/occurrences/{occurrence.id}").status_code == 200
    assert len({endpoint for endpoint, _m, _u in _route_urls(app, ids)}) >= 24
    monkeypatch.setattr(policy, "_active", lambda member: False, raising=False)
    opened = []
    for endpoint, method, url in _route_urls(app, ids):
        response = browser.get(url) if method == "GET" else browser.post(url, {})
        if response.status_code not in (403, 404):
            opened.append((endpoint, method, response.status_code))
    assert opened == []
