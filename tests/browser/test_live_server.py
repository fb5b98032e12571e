"""The browser test harness itself: real Chromium reaches the live server and sees the layout."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveServer


def test_anonymous_visitor_opening_the_exchange_sees_a_page_of_the_base_layout(
    page: Any, live_server: LiveServer
) -> None:
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    has_sign_in = "members.sign_in" in live_server.app.view_functions
    # Until the sign-in route exists, "/" cannot redirect anywhere; a 404 page shows the layout.
    response = page.goto(live_server.url + ("/" if has_sign_in else "/no-such-page"))
    assert response is not None
    assert response.status == (200 if has_sign_in else 404)
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    # The shared layout: brand link in the top bar, confidentiality footer, csrf meta tag.
    assert page.locator("header.topbar a.brand").inner_text().strip() != ""
    assert "Confidential" in page.locator("footer.footer").inner_text()
    assert page.locator('meta[name="csrf-token"]').get_attribute("content")
    if has_sign_in:
        assert page.url.startswith(live_server.url)
        assert page.locator('input[type="password"]').count() >= 1
    # No CSP violation or script error while loading the page.
    assert not [e for e in console_errors if "Content Security Policy" in e]
