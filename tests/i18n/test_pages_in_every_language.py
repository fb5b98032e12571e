"""Every main page renders in each of the seven languages — a translation that breaks a
placeholder, a plural or an attribute shows up here as an error page — and says so in
`<html lang>`; the words on it are the catalogue's, not English."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.messages.pofile import read_po
from flask import url_for

from forum.calls import minutes as call_minutes
from forum.calls import services as call_services
from forum.db import utcnow
from forum.extensions import db
from forum.i18n import LANGUAGES, TRANSLATIONS
from forum.threads import services as thread_services
from tests.support.alerts import raise_alert


def _world(members):  # type: ignore[no-untyped-def]
    coordinator = members.coordinator(country="BE")
    raiser = members.make(country="BE")
    alert = raise_alert(raiser, countries=["BE"])
    thread = thread_services.start_thread(
        author=raiser,
        category=thread_services.ensure_default_categories()[0],
        title="Lessons on liaison",
        body="One named liaison per family.",
        label="AMBER",
    )
    occurrence = call_services.create_adhoc_call(
        organiser=coordinator,
        title="Coordination call",
        starts_at=utcnow() + timedelta(hours=2),
        duration_minutes=60,
        joining_details="https://meet.example.org/x",
    )
    call_minutes.write_minutes(
        occurrence,
        actor=coordinator,
        body="Short minutes.",
        label="AMBER",
        action_items=[call_minutes.ActionInput(text="Write the note", owner=coordinator)],
    )
    db.session.commit()
    return coordinator, {
        "home.index": {},
        "alerts.index": {},
        "alerts.show": {"alert_id": alert.id},
        "alerts.board": {"alert_id": alert.id},
        "alerts.new": {},
        "threads.index": {},
        "threads.show": {"thread_id": thread.id},
        "threads.new": {},
        "threads.search": {"q": "liaison"},
        "calls.index": {},
        "calls.occurrence": {"occurrence_id": occurrence.id},
        "calls.new_adhoc": {},
        "members.directory": {},
        "members.profile": {},
        "members.sessions": {},
        "notify.index": {},
        "notify.settings": {},
        "members.admin": {},
        "members.admin_invites": {},
        "members.admin_audit": {},
    }


def _threads_word(code: str) -> str:
    if code == "en":
        return "Threads"
    path = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    message = catalog.get("Threads")
    assert message is not None and message.string
    return str(message.string)


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_every_main_page_renders_in_the_members_language(app, members, make_browser, code):
    member, pages = _world(members)
    member.locale = code
    db.session.commit()
    browser = make_browser(member)
    nav_word = _threads_word(code)
    for endpoint, values in pages.items():
        with app.test_request_context():
            path = url_for(endpoint, **values)
        response = browser.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (code, endpoint, page[:500])
        assert f'<html lang="{code}">' in page, (code, endpoint)
        assert re.search(rf">\s*{re.escape(nav_word)}\s*<", page), (code, endpoint)


@pytest.mark.parametrize("code", sorted(LANGUAGES))
def test_the_signed_out_pages_render_in_the_browsers_language(browser, code):
    for path in ("/sign-in", "/sign-in/forgot", "/offline"):
        response = browser.get(path, headers={"Accept-Language": code})
        assert response.status_code == 200, (code, path)
        assert f'lang="{code}"' in response.get_data(as_text=True), (code, path)
