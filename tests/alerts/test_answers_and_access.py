"""Answers (one tap, changeable), the board, and who may read what."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.alerts import coordination, services
from forum.alerts.models import AlertAnswer
from forum.extensions import db
from forum.notify.models import Notification
from tests.support.alerts import CANARY


def test_member_answers_with_one_tap_and_can_change_it(members, raise_, make_browser):
    raiser = members.make()
    helper = members.make(country="FR")
    alert = raise_(raiser)
    browser = make_browser(helper)
    response = browser.post(f"/alerts/{alert.id}/answer", {"answer": "can_help"})
    assert response.status_code == 303
    response = browser.post(
        f"/alerts/{alert.id}/answer", {"answer": "nationals_affected", "note": f"{CANARY} note"}
    )
    assert response.status_code == 303
    rows = list(db.session.scalars(select(AlertAnswer).where(AlertAnswer.alert_id == alert.id)))
    assert [(r.member_id, r.answer) for r in rows] == [(helper.id, "nationals_affected")]
    assert rows[0].note == f"{CANARY} note"
    assert CANARY.encode() not in rows[0].note_sealed
    db.session.refresh(alert)
    assert alert.first_answer_at is not None


def test_answering_from_the_banner_returns_json_and_settles_the_banner(
    members, raise_, make_browser
):
    raiser = members.make()
    helper = members.make()
    alert = raise_(raiser)
    browser = make_browser(helper)
    assert browser.get("/live/poll").get_json()["urgent"][0]["link"] == alert.link
    response = browser.post(
        f"/alerts/{alert.id}/answer", {"answer": "can_help"}, headers={"Accept": "application/json"}
    )
    assert response.get_json() == {"ok": True, "answer": "can_help", "label": "I can help"}
    assert browser.get("/live/poll").get_json()["urgent"] == []
    unread = db.session.scalar(
        select(Notification).where(
            Notification.member_id == helper.id, Notification.read_at.is_(None)
        )
    )
    assert unread is None


def test_answer_without_a_choice_is_refused_in_plain_words(members, raise_, make_browser):
    raiser = members.make()
    member = members.make()
    alert = raise_(raiser)
    response = make_browser(member).post(f"/alerts/{alert.id}/answer", {"note": "kept"})
    assert response.status_code == 422
    assert "kept" in response.get_data(as_text=True)


def test_member_outside_the_audience_gets_not_found(members, raise_, make_browser):
    raiser = members.make(country="BE")
    outsider = members.make(country="US")
    alert = raise_(raiser, countries=["BE"])
    browser = make_browser(outsider)
    assert browser.get(f"/alerts/{alert.id}").status_code == 404
    assert browser.post(f"/alerts/{alert.id}/answer", {"answer": "seen"}).status_code == 404
    assert browser.get("/alerts/0123456789abcdef0123456789abcdef").status_code == 404
    assert CANARY not in browser.get("/alerts").get_data(as_text=True)


def test_board_is_for_the_raiser_and_coordinators_only(members, raise_, make_browser):
    raiser = members.make()
    coordinator = members.coordinator()
    member = members.make(country="NL")
    alert = raise_(raiser)
    services.answer_alert(member, alert.id, "can_help")
    db.session.commit()
    assert make_browser(member).get(f"/alerts/{alert.id}/board").status_code == 404
    assert make_browser(member).get(f"/alerts/{alert.id}/board/fragment").status_code == 404
    for viewer in (raiser, coordinator):
        page = make_browser(viewer).get(f"/alerts/{alert.id}/board")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert member.display_name in text and "I can help" in text
        assert "Not answered yet" in text
    board = services.board(coordinator, alert.id)
    assert [r.member.id for r in board.answered] == [member.id]
    # The raiser is shown as the raiser, not as someone who has not answered.
    assert {r.member.id for r in board.waiting} == {coordinator.id}
    assert board.by_country["NL"]["can_help"] == 1


def test_only_raiser_or_coordinator_may_post_updates_and_resolve(members, raise_, make_browser):
    raiser = members.make()
    member = members.make()
    alert = raise_(raiser)
    browser = make_browser(member)
    assert browser.post(f"/alerts/{alert.id}/resolve", {}).status_code == 404
    assert browser.post(f"/alerts/{alert.id}/updates", {"text": "x"}).status_code == 404
    with pytest.raises(services.AlertNotFound):
        coordination.resolve(member, alert.id)


def test_update_notifies_those_who_answered_and_resolving_asks_for_review(
    members, raise_, make_browser
):
    raiser = members.make()
    helper = members.make()
    silent = members.make()
    alert = raise_(raiser)
    services.answer_alert(helper, alert.id, "can_help")
    db.session.commit()
    browser = make_browser(raiser)
    assert (
        browser.post(
            f"/alerts/{alert.id}/updates", {"text": "Hotline open", "status": "coordinating"}
        ).status_code
        == 303
    )
    updates = db.session.scalars(
        select(Notification.member_id).where(Notification.kind == "alert.update")
    ).all()
    assert updates == [helper.id]
    assert silent.id not in updates
    response = browser.post(f"/alerts/{alert.id}/resolve", {"note": "All accounted for"})
    assert response.headers["Location"].endswith(f"/alerts/{alert.id}/review")
    response = browser.post(f"/alerts/{alert.id}/review", {})
    assert response.status_code == 422
    response = browser.post(
        f"/alerts/{alert.id}/review",
        {"cross_border": "Five nationalities", "follow_up": "One-year check-in"},
    )
    assert response.status_code == 303
    page = make_browser(helper).get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "Five nationalities" in page and "After-action review" in page
    register = make_browser(helper).get("/alerts").get_data(as_text=True)
    assert "Read" in register and "Belgium" in register
    entry = coordination.register(helper)[0]
    assert entry.answers == 1 and entry.has_review
    assert entry.time_to_first_answer is not None
    timeline = [u.event for u in services.timeline(helper, alert)]
    assert timeline == ["raised", "status", "status", "review"]


def test_raise_form_keeps_text_and_explains_errors(members, make_browser):
    browser = make_browser(members.make())
    response = browser.post(
        "/alerts/new",
        {"kind": "attack", "severity": "high", "title": "Stabbing", "country": "France"},
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Stabbing" in text and "Choose the country from the list" in text


def test_raise_form_raises_the_alert(members, make_browser):
    raiser = members.make(timezone="Europe/Paris")
    members.make()
    browser = make_browser(raiser)
    assert browser.get("/alerts/new").status_code == 200
    response = browser.post(
        "/alerts/new",
        {
            "kind": "attack",
            "severity": "critical",
            "title": "Shooting at concert hall",
            "city": "Lyon",
            "country": "fr",
            "occurred_at": "2026-11-28T15:00",
            "nationalities": "FR, de",
            "needs": "Interpreters",
        },
    )
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Shooting at concert hall" in page and "France (FR), Germany (DE)" in page


def test_member_who_joined_after_the_alert_cannot_read_it(members, raise_, make_browser):
    raiser = members.make()
    alert = raise_(raiser)
    late = members.make()
    assert make_browser(late).get(f"/alerts/{alert.id}").status_code == 404
    assert make_browser(members.coordinator()).get(f"/alerts/{alert.id}").status_code == 200
