"""Urgent-alert banners in Chromium (items 7 and 11): one labelled banner per alert, a visible
"Later", focus kept after a one-tap answer, the tab title and a chime, and banners that go away
when their alert closes."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from forum.alerts import coordination, corrections, services
from forum.alerts.models import AlertAnswer
from forum.db import utcnow
from forum.extensions import db
from forum.notify import live
from tests.browser.test_alerts_live import _sign_in
from tests.support.live import PAGE_TIMEOUT_MS, LiveServer

WAIT_MS = 8_000  # a bound for the test, not a timing assertion
COUNT_PLAYS = """
window.__plays = 0;
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { window.__plays += 1; return play.call(this); };
"""


def _raise(raiser: Any, title: str, label: str = "AMBER") -> Any:
    alert = services.raise_alert(
        raiser,
        kind="attack",
        title=title,
        city="Brussels",
        country="BE",
        occurred_at=utcnow(),
        needs="Psychologists",
        severity="critical",
        label=label,
    )
    db.session.commit()
    return alert


def _open(chromium: Any, live_server: LiveServer, member: Any) -> Any:
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.add_init_script(COUNT_PLAYS)
    _sign_in(context, live_server, member)
    page = context.new_page()
    page.goto("/threads")
    page.wait_for_selector("body[data-live='open']")
    return page


def test_two_alerts_give_two_labelled_banners_a_tab_title_a_chime_and_keep_keyboard_focus(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    member = live_members.make(name="Mia Member")
    raiser = live_members.make(name="Rolf Raiser")
    page = _open(chromium, live_server, member)
    try:
        base_title = page.title()
        _raise(raiser, "Secret shooting title", label="RED")
        _raise(raiser, "Secret flood title", label="AMBER")
        banners = page.get_by_role("region", name="Urgent alerts").get_by_role("region")
        expect(banners).to_have_count(2, timeout=WAIT_MS)
        shooting = banners.filter(has_text="Secret shooting title")
        flood = banners.filter(has_text="Secret flood title")
        assert "TLP:RED" in shooting.inner_text() and "TLP:AMBER" in flood.inner_text()
        assert page.title() == f"(2) Urgent alerts — {base_title}"
        assert page.evaluate("window.__plays") >= 1

        later = flood.get_by_role("button", name="Later")
        box = later.bounding_box()
        assert later.is_visible() and box is not None and box["height"] >= 40

        shooting.get_by_role("button", name="I can help").focus()
        page.keyboard.press("Enter")
        status = shooting.get_by_role("status")
        status.filter(has_text="Thank you").wait_for(timeout=WAIT_MS)
        focused = page.evaluate("document.activeElement.textContent")
        assert "Your answer: I can help" in focused
        assert page.title() == f"(1) Urgent alert — {base_title}"
        db.session.expire_all()
        answers = db.session.scalars(select(AlertAnswer)).all()
        assert [(a.member_id, a.answer) for a in answers] == [(member.id, "can_help")]

        later.click()
        flood.wait_for(state="detached", timeout=WAIT_MS)
        assert page.evaluate("document.activeElement !== document.body")
        page.reload()
        page.wait_for_selector("body[data-live='open']")
        assert page.locator(".banner-item", has_text="Secret flood title").count() == 0  # snoozed
    finally:
        page.context.close()
        live.stop_listener(live_server.app)


def test_a_resolved_or_cancelled_alert_leaves_every_open_page_without_reload(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    member = live_members.make(name="Nora Member")
    raiser = live_members.make(name="Ralf Raiser")
    page = _open(chromium, live_server, member)
    try:
        first = _raise(raiser, "First alert")
        second = _raise(raiser, "Second alert")
        expect(page.locator(".banner-item")).to_have_count(2, timeout=WAIT_MS)
        url = page.url
        coordination.resolve(raiser, first.id, "Over")
        db.session.commit()
        page.locator(".banner-item", has_text="First alert").wait_for(
            state="detached", timeout=WAIT_MS
        )
        corrections.cancel_alert(raiser, second.id, "Drill")
        db.session.commit()
        page.locator(".banner-item", has_text="Second alert").wait_for(
            state="detached", timeout=WAIT_MS
        )
        assert page.locator("#live-banner").is_hidden()
        assert page.url == url  # no reload, no navigation
        assert not page.title().startswith("(")
        page.goto(first.link)
        assert "answers are closed" in page.content()
        assert page.locator(".banner-item").count() == 0
    finally:
        page.context.close()
        live.stop_listener(live_server.app)


def test_the_start_page_card_shows_an_alert_as_it_arrives_and_drops_it_when_it_closes(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    member = live_members.make(name="Nora Member")
    raiser = live_members.make(name="Ralf Raiser")
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    _sign_in(context, live_server, member)
    page = context.new_page()
    try:
        page.goto("/")
        page.wait_for_selector("body[data-live='open']")
        page.evaluate("window.__same_page = true")
        card = page.locator("#home-alerts")
        expect(card).to_contain_text("No alert is open")
        page.locator("#home-threads").get_by_role("link", name="All threads").focus()

        first = _raise(raiser, "Bridge collapse at the harbour")
        expect(card.get_by_role("link", name="Bridge collapse at the harbour")).to_be_visible(
            timeout=WAIT_MS
        )
        expect(card.get_by_role("button", name="I can help")).to_be_visible()
        expect(card).not_to_contain_text("No alert is open")
        # Never takes the focus: it stays where the member left it, outside the card.
        assert page.evaluate("document.activeElement.textContent") == "All threads"

        # Focus inside the card stays on the same link in the fresh card.
        card.get_by_role("link", name="The alert register").focus()
        second = _raise(raiser, "Fire in the tunnel")
        expect(card.get_by_role("link", name="Fire in the tunnel")).to_be_visible(timeout=WAIT_MS)
        assert page.evaluate(
            "document.activeElement.closest('#home-alerts') !== null"
            " && document.activeElement.textContent === 'The alert register'"
        )

        coordination.resolve(raiser, first.id, "Over")
        corrections.cancel_alert(raiser, second.id, "Drill")
        db.session.commit()
        expect(card).to_contain_text("No alert is open", timeout=WAIT_MS)
        expect(card.get_by_role("button", name="I can help")).to_have_count(0)
        assert page.evaluate("window.__same_page === true")  # no reload
    finally:
        context.close()
        live.stop_listener(live_server.app)
