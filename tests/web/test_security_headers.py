"""Security headers on every page, the session cookie's flags, and no inline code anywhere: the
Content-Security-Policy forbids inline script and style, so none may be rendered or templated."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from forum import PROJECT_ROOT, create_app
from forum.security.headers import CSP
from tests.support.app import make_test_config
from tests.support.clients import Browser
from tests.support.members import Members
from tests.web.sweep import in_own_context, inline_code, targets

# The policy issue 2 asks for, word for word; headers.py may add stricter directives.
REQUIRED_CSP = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}
# Template patterns the policy would block: inline <script>, <style>, style= and on*= handlers.
INLINE_IN_TEMPLATES = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def _directives(policy: str) -> dict[str, str]:
    parts = [p.strip() for p in policy.split(";") if p.strip()]
    return {p.split()[0]: " ".join(p.split()[1:]) for p in parts}


# Public files that are the same for everyone and revalidate on every use: the service worker
# (served from the root so its scope is the site; a browser checks it for updates).
SAME_FOR_EVERYONE = {"/sw.js"}


def _visitor(app: Flask, members: Members, visitor: str) -> Browser:
    browser = Browser(app.test_client())
    if visitor == "member":
        browser.sign_in_as(members.make())
    elif visitor == "coordinator":
        browser.sign_in_as(members.coordinator())
    return browser


def _header_problems(response: Any, signed_in: bool, path: str) -> list[str]:
    headers = response.headers
    problems = []
    if headers.get("Content-Security-Policy") != CSP:
        problems.append(f"CSP is {headers.get('Content-Security-Policy')!r}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if headers.get("Referrer-Policy") != "no-referrer":
        problems.append(f"Referrer-Policy is {headers.get('Referrer-Policy')!r}")
    if signed_in and not path.startswith("/static/") and path not in SAME_FOR_EVERYONE:
        if "no-store" not in headers.get("Cache-Control", ""):
            problems.append(f"a signed-in page with Cache-Control {headers.get('Cache-Control')!r}")
    return problems


def test_the_policy_is_the_strict_one_issue_2_asks_for() -> None:
    directives = _directives(CSP)
    for name, value in REQUIRED_CSP.items():
        assert directives.get(name) == value, f"{name} must be {value}"
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert "http:" not in CSP and "https:" not in CSP and "*" not in CSP  # no CDN, no wildcard
    assert directives.get("form-action") == "'self'"


@pytest.mark.parametrize("visitor", ["anonymous", "member", "coordinator"])
def test_every_page_of_the_sweep_carries_the_security_headers_and_no_inline_code(
    app: Flask, members: Members, visitor: str
) -> None:
    browser = _visitor(app, members, visitor)
    problems = []
    pages = 0
    for target in [*targets(app, methods=("GET",)), None]:
        url = target.url if target else "/__no-such-page__"
        response = in_own_context(app, browser.client.get, url)
        problems += [f"{url}: {p}" for p in _header_problems(response, visitor != "anonymous", url)]
        if response.mimetype == "text/html":
            pages += 1
            problems += [f"{url}: {p}" for p in inline_code(response.get_data(as_text=True))]
    assert pages >= 1
    assert not problems, "\n".join(problems)


def test_signed_in_pages_are_never_stored_by_a_browser_or_proxy(
    app: Flask, members: Members
) -> None:
    browser = _visitor(app, members, "member")
    response = in_own_context(app, browser.client.get, "/")
    assert response.status_code < 500
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_are_served_with_their_types_and_nosniff(app: Flask) -> None:
    client = app.test_client()
    for path, mimetype in [("exchange.css", "text/css"), ("exchange.js", "text/javascript")]:
        with client.get(f"/static/{path}") as response:
            assert response.status_code == 200
            assert response.mimetype == mimetype
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize("template", sorted((PROJECT_ROOT / "templates").rglob("*.html")), ids=str)
def test_no_template_holds_inline_script_or_style(template: Path) -> None:
    source = template.read_text(encoding="utf-8")
    found = [label for pattern, label in INLINE_IN_TEMPLATES if pattern.search(source)]
    assert not found, f"{template.relative_to(PROJECT_ROOT)} holds {found}; use static/ files"


def _cookie_app(instance: Path, cookie_secure: bool | None) -> Flask:
    config = make_test_config(instance, "sqlite", None)
    if cookie_secure is None:
        del config["security"]["cookie_secure"]  # the shipped default
    else:
        config["security"]["cookie_secure"] = cookie_secure
    return create_app(config, check_keyring=False)


def _session_cookie(app: Flask) -> str:
    response = app.test_client().get("/__no-such-page__")  # the layout's csrf_token() opens one
    cookies = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("exchange_session=")
    ]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def test_the_session_cookie_is_secure_httponly_and_samesite_by_default(instance: Path) -> None:
    cookie = _session_cookie(_cookie_app(instance, None))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite"} <= flags
    assert "SameSite=Lax" in cookie or "SameSite=Strict" in cookie


def test_the_session_cookie_may_drop_secure_for_plain_http_local_use(instance: Path) -> None:
    cookie = _session_cookie(_cookie_app(instance, False))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert "secure" not in flags
    assert {"httponly", "samesite"} <= flags


def test_https_deployments_get_strict_transport_security(instance: Path) -> None:
    response = _cookie_app(instance, None).test_client().get("/__no-such-page__")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert response.headers["X-Frame-Options"] == "DENY"
