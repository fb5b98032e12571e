"""The browser test harness itself: real Chromium reaches the live server and sees the layout."""

from __future__ import annotations

from typing import Any

from forum.extensions import db
from forum.members.sessions import SESSION_KEY, start_session
from tests.support.live import LiveServer
from tests.support.members import Members


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


# Pages every signed-in member reaches from the top bar (those that exist today).
MAIN_PAGES = [
    "home.index",
    "threads.index",
    "calls.index",
    "alerts.index",
    "alerts.new",
    "members.directory",
    "members.profile",
    "notify.index",
]


def _sign_in_cookie(live_server: LiveServer, member: Any) -> dict[str, Any]:
    """The cookie a browser holds after signing in: a real server session, signed by the app."""
    token = start_session(member)
    db.session.commit()
    app = live_server.app
    value = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: token})  # type: ignore[attr-defined]
    return {"name": app.config["SESSION_COOKIE_NAME"], "value": value, "url": live_server.url}


def test_main_pages_run_in_chromium_without_a_policy_violation_or_script_error(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    member = live_members.coordinator()
    page.context.add_cookies([_sign_in_cookie(live_server, member)])
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{page.url}: console {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"{page.url}: script error {error}"))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{page.url}: {r.url} answered {r.status}") if r.status >= 400 else None
        ),
    )
    adapter = live_server.app.url_map.bind("localhost")
    visited = 0
    for endpoint in MAIN_PAGES:
        if endpoint not in live_server.app.view_functions:
            continue
        response = page.goto(live_server.url + adapter.build(endpoint))
        assert response is not None and response.status == 200, endpoint
        assert page.locator("body[data-signed-in]").count() == 1, f"{endpoint}: not signed in"
        visited += 1
    assert visited >= 2
    assert not problems, "\n".join(problems)
