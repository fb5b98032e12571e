"""The personal-data guard (forum.security.pii) covers alerts as it covers threads: a title,
needs, an update, a note or a review that looks like it holds a victim's personal data comes
back with the warning at its field and the text kept, and goes through once confirmed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.alerts.models import Alert
from forum.extensions import db
from forum.security.pii import PII_CONFIRM

PHONE = "Her brother asks to be called on +32 475 12 34 56"
RAISE = {
    "kind": "attack",
    "severity": "critical",
    "title": "Shooting at concert hall",
    "city": "Lyon",
    "country": "FR",
    "occurred_at": "2026-11-28T15:00",
    "needs": "Interpreters",
}


@pytest.mark.parametrize("field", ["title", "needs"])
def test_raising_an_alert_with_personal_data_asks_first(members, make_browser, field):
    browser = make_browser(members.make())
    fields = {**RAISE, field: PHONE}
    response = browser.post("/alerts/new", fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "a phone number" in page and PII_CONFIRM.replace("'", "&#39;") in page
    assert "+32 475 12 34 56" in page
    assert db.session.scalar(select(func.count(Alert.id))) == 0
    assert browser.post("/alerts/new", {**fields, "confirm_pii": "y"}).status_code == 302
    assert db.session.scalar(select(func.count(Alert.id))) == 1


def test_an_update_with_personal_data_comes_back_kept_with_the_warning(
    members, raise_, make_browser
):
    raiser = members.make()
    alert = raise_(raiser)
    browser = make_browser(raiser)
    text = "Contact the mother at anne.dupont@example.fr"
    response = browser.post(f"/alerts/{alert.id}/updates", {"text": text})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "an e-mail address" in page and text in page
    confirmed = browser.post(f"/alerts/{alert.id}/updates", {"text": text, "confirm_pii": "y"})
    assert confirmed.status_code == 303
    assert text in browser.get(f"/alerts/{alert.id}").get_data(as_text=True)


def test_an_answer_note_and_a_closing_note_are_guarded_too(members, raise_, make_browser):
    raiser, helper = members.make(), members.make()
    alert = raise_(raiser)
    answer = make_browser(helper).post(
        f"/alerts/{alert.id}/answer", {"answer": "can_help", "note": PHONE}
    )
    assert answer.status_code == 422 and "a phone number" in answer.get_data(as_text=True)
    closing = make_browser(raiser).post(f"/alerts/{alert.id}/resolve", {"note": PHONE})
    assert closing.status_code == 422 and PHONE in closing.get_data(as_text=True)
    assert db.session.get(Alert, alert.id).status != "resolved"


def test_the_review_is_guarded(members, raise_, make_browser):
    raiser = members.make()
    alert = raise_(raiser)
    browser = make_browser(raiser)
    assert browser.post(f"/alerts/{alert.id}/resolve", {"note": ""}).status_code == 303
    response = browser.post(f"/alerts/{alert.id}/review", {"lessons": "Passport AB1234567"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "an identity or passport number" in page and "Passport AB1234567" in page
