"""The personal-data guard (forum.security.pii) covers call minutes and agenda items as it
covers threads: the warning at the field, the text kept, saved once confirmed."""

from __future__ import annotations

from sqlalchemy import select

from forum.calls import minutes
from forum.calls.models import AgendaItem, Occurrence
from forum.extensions import db
from forum.members.models import Member
from forum.security.pii import PII_CONFIRM

PHONE = "The widow can be reached on +32 475 12 34 56"
NO_OWNERS = {f"actions-{n}-owner": "" for n in range(5)}


def _first(series) -> Occurrence:  # type: ignore[no-untyped-def]
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


def test_minutes_with_personal_data_ask_first_and_keep_the_text(monthly, make_browser):
    occurrence = _first(monthly)
    browser = make_browser(db.session.get(Member, monthly.created_by_id))
    url = f"/calls/occurrences/{occurrence.id}/minutes"
    response = browser.post(url, {"body": PHONE, "label": "AMBER", **NO_OWNERS})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "a phone number" in page and PHONE in page and PII_CONFIRM.replace("'", "&#39;") in page
    assert (
        minutes.minutes_of(occurrence, viewer=db.session.get(Member, monthly.created_by_id)) is None
    )
    response = browser.post(url, {"body": PHONE, "label": "AMBER", "confirm_pii": "y", **NO_OWNERS})
    assert response.status_code in (302, 303)


def test_an_action_item_with_personal_data_asks_too(monthly, make_browser):
    occurrence = _first(monthly)
    browser = make_browser(db.session.get(Member, monthly.created_by_id))
    response = browser.post(
        f"/calls/occurrences/{occurrence.id}/minutes",
        {
            "body": "We agreed on follow-up.",
            "label": "AMBER",
            **NO_OWNERS,
            "actions-0-text": "Write to jan.peeters@example.be",
        },
    )
    assert response.status_code == 422
    assert "an e-mail address" in response.get_data(as_text=True)


def test_an_agenda_item_with_personal_data_asks_first(monthly, members, make_browser):
    occurrence = _first(monthly)
    browser = make_browser(members.make())
    url = f"/calls/occurrences/{occurrence.id}/agenda"
    fields = {"title": "Case of AB1234567", "description": "10 min", "presenter": "Lotte"}
    response = browser.post(url, fields)
    assert response.status_code == 422
    assert "an identity or passport number" in response.get_data(as_text=True)
    assert db.session.scalars(select(AgendaItem)).all() == []
    assert browser.post(url, {**fields, "confirm_pii": "y"}).status_code in (302, 303)
    assert len(db.session.scalars(select(AgendaItem)).all()) == 1
