"""The installable Exchange as a browser fetches it: the manifest, the service worker from the
root, the icons, and an offline page that is the same for everyone and names no one."""

from __future__ import annotations

import struct
from typing import Any

from flask import Flask

from forum.security.headers import CSP
from tests.support.clients import Browser
from tests.support.members import Members


def test_the_manifest_is_served_signed_out_with_what_installs_need(browser: Browser) -> None:
    response = browser.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "INVICTM Exchange"
    assert manifest["short_name"] == "Exchange"
    assert manifest["id"] == manifest["start_url"] == manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#1d3557"
    assert manifest["background_color"]
    kinds = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert kinds == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_every_icon_is_a_png_of_the_size_it_claims(browser: Browser) -> None:
    manifest = browser.get("/manifest.webmanifest").get_json(force=True)
    icons = [(icon["src"], icon["sizes"]) for icon in manifest["icons"]]
    icons.append(("/static/icons/apple-touch-icon.png", "180x180"))
    for src, sizes in icons:
        with browser.get(src) as response:
            assert response.status_code == 200, src
            assert response.mimetype == "image/png"
            width, height = _png_size(response.get_data())
        assert f"{width}x{height}" == sizes, src


def test_the_service_worker_is_served_from_the_root_for_the_whole_site(browser: Browser) -> None:
    response = browser.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Content-Security-Policy"] == CSP
    source = response.get_data(as_text=True)
    assert "__STATIC_VERSION__" not in source and "__APP_NAME__" not in source
    assert '"INVICTM Exchange"' in source
    for event in ("install", "activate", "fetch", "push", "notificationclick"):
        assert f'addEventListener("{event}"' in source


def test_the_policy_lets_only_this_site_provide_workers_and_the_manifest() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["worker-src"] == "'self'"
    assert directives["manifest-src"] == "'self'"


def test_the_worker_changes_when_a_static_file_does(app: Flask, browser: Browser) -> None:
    first = browser.get("/sw.js").get_data(as_text=True)
    app.extensions.pop("exchange.static_version")  # a new process after a deploy
    assert browser.get("/sw.js").get_data(as_text=True) == first  # same files: same worker
    app.extensions["exchange.static_version"] = "0123456789abcdef"
    assert '"0123456789abcdef"' in browser.get("/sw.js").get_data(as_text=True)


def test_the_offline_page_is_the_same_for_everyone_and_names_no_one(
    browser: Browser, make_browser: Any, members: Members
) -> None:
    member = members.make(name="Olga Offline", email="olga.offline@example.org")
    signed_out = browser.get("/offline")
    assert signed_out.status_code == 200
    assert signed_out.mimetype == "text/html"
    signed_in = make_browser(member).get("/offline")
    page = signed_in.get_data(as_text=True)
    assert page == signed_out.get_data(as_text=True)
    assert "You are offline" in page
    for private in ("Olga", "olga.offline", member.id, "csrf-token", "Sign out"):
        assert private not in page
    assert "no-store" in signed_in.headers["Cache-Control"]


def test_every_page_links_the_manifest_and_registers_the_worker(browser: Browser) -> None:
    page = browser.get("/sign-in").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'src="/static/pwa.js" data-worker="/sw.js"' in page
    assert 'rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png"' in page
