"""Raising and answering an urgent alert with the keyboard alone, in Chromium: Tab, typing,
arrows and Enter — never a click. After an answer the focus stays where the person was (the
banner's confirmation, or the answer section of the alert page), never thrown to the top."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from forum.extensions import db
from tests.browser.test_alerts_live import _sign_in
from tests.support.alerts import raise_alert
from tests.support.axe import assert_accessible
from tests.support.live import PAGE_TIMEOUT_MS, LiveServer

# The accessible name of the focused element, as far as this test needs it (label, aria-label,
# text), and whether it sits inside a given element.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "";
  const label = e.labels && e.labels[0] ? e.labels[0].innerText : "";
  return (e.getAttribute("aria-label") || label || e.innerText || e.value || "").trim();
}"""
MAX_TABS = 80


def tab_to(page: Any, name: str | re.Pattern[str]) -> None:
    """Press Tab until the focused element's name matches (as a keyboard user looks for it)."""
    pattern = name if isinstance(name, re.Pattern) else re.compile(re.escape(name), re.I)
    seen = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if pattern.search(focused):
            return
        seen.append(focused)
    raise AssertionError(f"Tab never reached {pattern.pattern!r}; went through {seen[:40]}")


def _context(chromium: Any, live_server: LiveServer, member: Any) -> Any:
    context = chromium.new_context(base_url=live_server.url)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    _sign_in(context, live_server, member)
    return context


def test_an_alert_is_raised_with_the_keyboard_alone(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    raiser = live_members.make(name="Kasia Keyboard", country="BE")
    live_members.make(name="Bruno Bystander", country="BE")
    db.session.commit()
    context = _context(chromium, live_server, raiser)
    try:
        page = context.new_page()
        page.goto("/")
        tab_to(page, re.compile(r"^Raise alert$"))  # the header's button, first on the page
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Raise an urgent alert")
        # The title has the focus when the form opens.
        assert page.evaluate(FOCUSED) == "Short title"
        page.keyboard.type("Explosion at the central station")
        tab_to(page, "City")
        page.keyboard.type("Brussels")
        tab_to(page, re.compile(r"^Country"))
        page.keyboard.type("Belg")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")  # chooses from the list; does not submit the form
        expect(page.get_by_role("heading", level=1)).to_contain_text("Raise an urgent alert")
        tab_to(page, "What is needed")
        page.keyboard.type("Interpreters for Dutch and Arabic at the family centre.")
        tab_to(page, "Raise alert now")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            "Explosion at the central station"
        )
        assert_accessible(page, "the raised alert")
    finally:
        context.close()


def test_an_alert_is_answered_from_its_banner_with_the_keyboard_and_focus_stays_there(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    raiser = live_members.make(name="Rolf Raiser", country="BE")
    responder = live_members.make(name="Rita Responder", country="BE")
    raise_alert(raiser, title="Shooting near the market", countries=["BE"])
    db.session.commit()
    context = _context(chromium, live_server, responder)
    try:
        page = context.new_page()
        page.goto("/threads")
        banner = page.locator("#live-banner")
        expect(banner).to_contain_text("Shooting near the market")
        tab_to(page, re.compile(r"^I can help$"))
        assert page.evaluate("() => !!document.activeElement.closest('#live-banner')")
        page.keyboard.press("Enter")
        expect(banner).to_contain_text("Thank you")
        focus = page.evaluate(
            "() => [document.activeElement.closest('#live-banner') !== null,"
            " document.activeElement.innerText]"
        )
        assert focus[0] and "Thank you" in focus[1], "the confirmation holds the focus"
    finally:
        context.close()


def test_an_answer_on_the_alert_page_brings_the_keyboard_back_to_the_answer(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    raiser = live_members.make(name="Rolf Raiser", country="BE")
    responder = live_members.make(name="Rita Responder", country="BE")
    alert = raise_alert(raiser, title="Vehicle attack on the boulevard", countries=["BE"])
    db.session.commit()
    context = _context(chromium, live_server, responder)
    try:
        page = context.new_page()
        page.goto(f"/alerts/{alert.id}")
        answer = page.locator("#answer")
        # The banner for this alert is not shown on its own page: the answer buttons are
        # reached by Tab through the page.
        tab_to(page, re.compile(r"^Seen$"))
        assert page.evaluate("() => !!document.activeElement.closest('#answer')")
        page.keyboard.press("Enter")
        expect(answer).to_contain_text("Your answer: Seen")
        # The page came back with the person at their answer: once it has loaded (Chromium
        # sets the focus starting point when it goes to #answer), the next Tab is in it.
        page.wait_for_url(re.compile(r"#answer$"))
        page.wait_for_load_state("load")
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement.closest('#answer')"), page.evaluate(
            FOCUSED
        )
    finally:
        context.close()
