"""Urgent alerts in a real browser: a banner on every open page without reload, one-tap answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from forum.alerts.models import AlertAnswer
from forum.extensions import db
from forum.members.sessions import SESSION_KEY, start_session
from forum.notify import live
from tests.support.live import PAGE_TIMEOUT_MS, LiveServer

BANNER_WAIT_MS = 5_000  # a bound for the test, not a timing assertion


def _sign_in(context: Any, live_server: LiveServer, member: Any) -> None:
    token = start_session(member)
    db.session.commit()
    serializer = live_server.app.session_interface.get_signing_serializer(live_server.app)
    context.add_cookies(
        [
            {
                "name": "exchange_session",
                "value": serializer.dumps({SESSION_KEY: token}),
                "url": live_server.url,
            }
        ]
    )


def _new_page(chromium: Any, live_server: LiveServer, member: Any) -> Any:
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    _sign_in(context, live_server, member)
    return context.new_page()


def test_alert_raised_by_a_third_member_appears_on_two_open_pages_and_one_taps_i_can_help(
    page: Any, chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    first = live_members.make(name="Anna Responder", country="FR")
    second = live_members.make(name="Bram Responder", country="NL")
    raiser = live_members.make(name="Carla Raiser", country="BE")
    errors: list[str] = []

    _sign_in(page.context, live_server, first)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    other = _new_page(chromium, live_server, second)
    raising = _new_page(chromium, live_server, raiser)
    try:
        for open_page in (page, other):
            open_page.goto("/")
            open_page.wait_for_selector("body[data-live='open']")
        assert page.locator("#live-banner").is_hidden()

        raising.goto("/alerts/new")
        raising.fill("input[name=title]", "Vehicle attack on the Christmas market")
        raising.fill("input[name=city]", "Strasbourg")
        raising.get_by_role("combobox", name="Country").fill("Fran")
        raising.get_by_role("option", name="France").click()
        nationalities = raising.get_by_role("combobox", name="Nationalities known or feared")
        for name in ("Germany", "France"):
            nationalities.fill(name[:4])
            nationalities.press("Enter")
        raising.fill("textarea[name=needs]", "German-speaking psychologists")
        raising.click("button:has-text('Raise alert now')")
        raising.wait_for_url("**/alerts/*")
        assert raising.locator("#live-banner .banner-item").count() == 0  # not asked to answer

        for open_page in (page, other):
            banner = open_page.locator("#live-banner .banner-item")
            banner.wait_for(state="visible", timeout=BANNER_WAIT_MS)
            assert "Vehicle attack on the Christmas market" in banner.inner_text()
            assert open_page.url.endswith("/")  # no reload, no navigation

        page.locator("#live-banner button:has-text('I can help')").click()
        done = page.locator("#live-banner").get_by_role("status").filter(has_text="Thank you")
        done.wait_for(state="visible")
        assert "I can help" in done.inner_text()
        db.session.expire_all()
        answers = db.session.scalars(select(AlertAnswer)).all()
        assert [(a.member_id, a.answer) for a in answers] == [(first.id, "can_help")]

        # The raiser's board shows the answer without a reload.
        raising.goto(raising.url.rstrip("/") + "/board")
        raising.wait_for_selector("body[data-live='open']")
        other.locator("#live-banner button:has-text('Not available')").click()
        raising.locator("#board .board-answers", has_text="Bram Responder").wait_for(
            timeout=BANNER_WAIT_MS
        )
        assert not [e for e in errors if "Content Security Policy" in e]
    finally:
        other.context.close()
        raising.context.close()
        live.stop_listener(live_server.app)
