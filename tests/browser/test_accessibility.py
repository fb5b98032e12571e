"""WCAG 2.2 A/AA, checked by axe-core (the npm package in tests/a11y, injected through DevTools
so the strict CSP stays on) on every main page, signed out and signed in, on a desktop and on a
phone with its menu open, with three open alerts' banners, a form showing its errors, and the
coordinators' pages: no violation at all.

(Issue 13's accessibility part, begun: the bell is an inline SVG whose accessible name holds
its visible count.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.test_alerts_live import _sign_in
from tests.browser.test_phone_layout import _phone, _world
from tests.support.axe import AXE, axe_source, violations
from tests.support.live import LiveServer

SIZES = [(1280, 900), (390, 844)]


def _problems(page: Any, name: str) -> dict[str, Any]:
    found = violations(page)
    return {name: found} if found else {}


def test_axe_core_is_the_npm_package_pinned_in_tests_a11y() -> None:
    assert "axe.run" in axe_source() and AXE.exists()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_main_page_has_no_wcag_violation_signed_in(
    chromium: Any, live_server: LiveServer, live_members: Any, size: tuple[int, int]
) -> None:
    world = _world(live_server, live_members)
    pages = {**world["pages"], "notification settings": "/notifications/settings"}
    context = _phone(chromium, live_server, world["member"], size)
    try:
        page = context.new_page()
        problems: dict[str, Any] = {}
        for name, path in pages.items():
            response = page.goto(path)
            assert response is not None and response.status == 200, name
            problems.update(_problems(page, name))
        if size[0] < 640:  # the phone's menu, opened
            page.goto("/")
            page.get_by_text("Menu", exact=True).click()
            problems.update(_problems(page, "menu open"))
        page.goto("/alerts/new")
        page.get_by_role("button", name="Raise alert").last.click()  # nothing filled in
        problems.update(_problems(page, "raise form with its errors"))
        assert problems == {}
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_signed_out_pages_have_no_wcag_violation(
    chromium: Any, live_server: LiveServer, size: tuple[int, int]
) -> None:
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": size[0], "height": size[1]}
    )
    try:
        page = context.new_page()
        problems: dict[str, Any] = {}
        for name, path in {
            "sign-in": "/sign-in",
            "forgotten password": "/sign-in/forgot",
            "offline page": "/offline",
        }.items():
            response = page.goto(path)
            assert response is not None and response.status == 200, name  # not a 404 page
            problems.update(_problems(page, name))
        page.goto("/sign-in")
        page.get_by_role("button", name=re.compile("sign in|continue", re.I)).click()  # empty
        problems.update(_problems(page, "sign-in with its errors"))
        assert problems == {}
    finally:
        context.close()


def test_the_first_tab_offers_a_skip_link_that_moves_focus_to_the_content(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    context = chromium.new_context(base_url=live_server.url)
    try:
        _sign_in(context, live_server, live_members.make())
        page = context.new_page()
        page.goto("/threads")  # a page whose form does not take the focus on arrival
        page.keyboard.press("Tab")  # from the top of the page, as a keyboard user arrives
        focused = page.evaluate("() => document.activeElement.textContent.trim()")
        assert focused == "Skip to the content"
        assert page.evaluate("() => getComputedStyle(document.activeElement).top") != "-48px"
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "main"
    finally:
        context.close()
