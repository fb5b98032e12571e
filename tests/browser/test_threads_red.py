"""In Debian's Chromium: starting a TLP:RED thread (the participant picker appears only for RED),
replying, and reading it — with no policy violation or script error on any threads page."""

from __future__ import annotations

from typing import Any

import pytest

from forum.extensions import db
from forum.members.sessions import SESSION_KEY, start_session
from forum.threads import services
from tests.support.live import LiveServer
from tests.support.members import Members

pytestmark = pytest.mark.browser


def _sign_in(page: Any, live_server: LiveServer, member: Any) -> None:
    token = start_session(member)
    db.session.commit()
    app = live_server.app
    value = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: token})  # type: ignore[attr-defined]
    page.context.add_cookies(
        [{"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": live_server.url}]
    )


def test_member_starts_a_red_thread_in_chromium_and_a_participant_replies(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    services.ensure_default_categories()
    db.session.commit()
    author = live_members.make(name="Alma Author")
    named = live_members.make(name="Nina Named")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    _sign_in(page, live_server, author)
    page.goto(live_server.link("/threads/new"))
    picker = page.locator("#participants")
    assert not picker.is_visible()  # AMBER by default: no participants to pick
    page.select_option("#tlp-choice", "RED")
    assert picker.is_visible()
    page.fill("#title", "Browser RED thread")
    page.select_option("#participants", label="Nina Named")
    page.fill("#tags", "browser")
    page.fill("#body", "Only **Nina** and I read this.")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/threads/*")
    assert "TLP:RED" in page.locator("h1").inner_text()
    assert "For the named participants only" in page.locator(".tlp-rule").inner_text()
    assert page.locator(".post-body strong").inner_text() == "Nina"
    thread_url = page.url
    page.goto("about:blank")  # no late response of the author's page may set her cookie again
    page.context.clear_cookies()
    _sign_in(page, live_server, named)
    page.goto(thread_url)
    page.fill("#body", "Read, thank you.")
    page.click("#reply button[type=submit]")
    page.wait_for_selector("#post-2")
    assert "Read, thank you." in page.locator("#post-2").inner_text()
    page.goto(live_server.link("/threads/search?q=thank"))
    assert page.locator("mark").first.inner_text().lower() == "thank"
    assert not problems, problems
