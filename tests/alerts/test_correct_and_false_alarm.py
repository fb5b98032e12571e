"""Correcting an alert, cancelling it as a false alarm (item 10), and status-update feedback (13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.alerts import corrections, escalation, services
from forum.alerts.models import AlertUpdate
from forum.db import utcnow
from forum.extensions import db
from forum.notify.models import Notification, OutboxMessage
from tests.support.alerts import CANARY


def test_the_raiser_corrects_the_alert_and_the_timeline_keeps_the_change_sealed(
    members, raise_, make_browser
):
    raiser = members.make()
    helper = members.make()
    alert = raise_(raiser, country="BE", city="Brussels")
    services.answer_alert(helper, alert.id, "can_help")
    db.session.commit()
    response = make_browser(raiser).post(
        f"/alerts/{alert.id}/correct",
        {
            "title": "Explosion at Antwerp central station",
            "city": "Antwerp",
            "country": "BE",
            "nationalities": "NL",
            "needs": "Dutch-speaking psychologists",
            "severity": "high",
            "reason": f"City was wrong {CANARY}",
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert alert.title == "Explosion at Antwerp central station" and alert.city == "Antwerp"
    assert alert.severity == "high" and alert.nationality_codes == ["NL"]
    entry = db.session.scalars(select(AlertUpdate).where(AlertUpdate.event == "corrected")).one()
    assert "Brussels" in entry.text and "Antwerp" in entry.text and CANARY in entry.text
    assert CANARY.encode() not in entry.text_sealed and b"Antwerp" not in entry.text_sealed
    page = make_browser(helper).get(alert.link).get_data(as_text=True)
    assert "Corrected" in page and "Brussels" in page  # the old value stays on the timeline
    told = db.session.scalars(
        select(Notification.member_id).where(Notification.kind == "alert.corrected")
    ).all()
    assert told == [helper.id]


def test_a_coordinator_may_correct_but_another_member_may_not(members, raise_, make_browser):
    raiser = members.make()
    member = members.make()
    coordinator = members.coordinator()
    alert = raise_(raiser)
    data = {"title": "Corrected title", "country": "BE", "needs": "x", "severity": "high"}
    assert make_browser(member).post(f"/alerts/{alert.id}/correct", data).status_code == 404
    assert make_browser(coordinator).post(f"/alerts/{alert.id}/correct", data).status_code == 303
    with pytest.raises(services.AlertNotFound):
        corrections.correct_alert(member, alert.id, title="Nope")


def test_a_correction_with_an_unknown_country_is_refused_at_the_field_with_the_text_kept(
    members, raise_, make_browser
):
    raiser = members.make()
    alert = raise_(raiser)
    response = make_browser(raiser).post(
        f"/alerts/{alert.id}/correct",
        {"title": "Typed correction", "country": "XX", "needs": "kept needs", "severity": "high"},
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Typed correction" in text and "kept needs" in text
    assert "Choose the country from the list" in text


def test_a_false_alarm_is_cancelled_with_a_content_free_notice_to_its_audience(
    members, raise_, make_browser
):
    raiser = members.make()
    helper = members.make()
    silent = members.make()
    alert = raise_(raiser)
    services.answer_alert(helper, alert.id, "seen")
    db.session.commit()
    response = make_browser(raiser).post(
        f"/alerts/{alert.id}/cancel", {"reason": f"A training exercise {CANARY}"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert alert.status == "cancelled"
    notices = db.session.scalars(
        select(Notification).where(Notification.kind == "alert.cancelled")
    ).all()
    assert {n.member_id for n in notices} == {helper.id, silent.id}
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "alert.cancelled")
    ).all()
    assert {m.member_id for m in mails} == {helper.id, silent.id}
    for mail in mails:
        assert "false alarm" in mail.subject.lower()
        assert CANARY not in mail.subject + mail.body and "Explosion" not in mail.body
    browser = make_browser(silent)
    assert browser.get("/live/poll").get_json()["urgent"] == []
    home = browser.get("/").get_data(as_text=True)
    assert 'data-alert-link="' not in home
    assert browser.post(f"{alert.link}/answer", {"answer": "seen"}).status_code == 303
    board = make_browser(raiser).get(f"{alert.link}/board").get_data(as_text=True)
    assert "False alarm" in board
    timeline = [u.event for u in services.timeline(raiser, alert)]
    assert timeline[-1] == "cancelled"
    assert escalation.escalate_alert(alert, now=utcnow() + timedelta(hours=3)) == []


def test_a_status_update_says_plainly_what_happened(members, raise_, make_browser):
    raiser = members.make()
    helper = members.make()
    alert = raise_(raiser)
    services.answer_alert(helper, alert.id, "can_help")
    db.session.commit()
    browser = make_browser(raiser)
    response = browser.post(
        f"/alerts/{alert.id}/updates", {"text": "Hotline open", "status": "coordinating"}
    )
    assert response.status_code == 303
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert 'role="status"' in page
    assert "Update posted. Status is now Coordinating. 1 member who answered was told." in page


def test_an_empty_update_is_refused_at_its_field_and_a_long_one_keeps_its_text(
    members, raise_, make_browser
):
    raiser = members.make()
    alert = raise_(raiser)
    browser = make_browser(raiser)
    response = browser.post(f"/alerts/{alert.id}/updates", {"text": "", "status": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    field = text[text.index('for="text"') :]
    assert "Please write the update" in field[: field.index("</div>")]
    long_text = "Long update " + "x" * 4000
    response = browser.post(f"/alerts/{alert.id}/updates", {"text": long_text, "status": ""})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert long_text in text and "4000" in text
