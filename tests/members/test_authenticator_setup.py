"""Issue 10 item 4: setting up the authenticator on the phone itself: the otpauth:// link to tap,
the key in groups of four, and copy / download / print for the recovery codes (script in static/,
no inline script)."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp

from tests.support.accounts import MemberBrowser, invite

NEW = "plum orchard lantern 1987"
STATIC = Path(__file__).resolve().parents[2] / "static"


def _join(app) -> tuple[MemberBrowser, str]:
    token = invite("phone.only@example.org")
    browser = MemberBrowser(app.test_client())
    browser.get(f"/invite/{token}")
    browser.post(
        "/join", {"email": "phone.only@example.org", "name": "Pia", "password": NEW, "confirm": NEW}
    )
    return browser, browser.get("/join/two-factor").get_data(as_text=True)


def test_enrolment_offers_the_otpauth_link_and_the_key_in_groups_of_four(app):
    _browser, page = _join(app)
    link = re.search(r'<a class="button" href="(otpauth://[^"]+)" id="otpauth-link"', page)
    assert link, "a link to tap on the phone itself"
    uri = urlsplit(html.unescape(link.group(1)))
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    secret = parse_qs(uri.query)["secret"][0]
    shown = re.search(r'id="totp-secret" data-secret="([A-Z2-7]+)">([A-Z2-7 ]+)</code>', page)
    assert shown and shown.group(1) == secret
    groups = shown.group(2).split(" ")
    assert "".join(groups) == secret and all(len(g) == 4 for g in groups)
    assert "Scan this code with the authenticator app on your phone" in page
    assert "On the phone that has your authenticator app?" in page


def test_recovery_codes_page_offers_copy_download_and_print_without_inline_script(app):
    browser, page = _join(app)
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    done = browser.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()})
    codes_page = done.get_data(as_text=True)
    assert done.status_code == 200
    for attribute in ("data-copy-codes", "data-download-codes", "data-print"):
        assert f'{attribute}="' in codes_page or f"{attribute} " in codes_page
    assert '<script src="/static/members.js" defer></script>' in codes_page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", codes_page), "no inline script"
    assert not re.search(r"<[^>]+\son[a-z]+=", codes_page), "no inline event handlers"
    script = (STATIC / "members.js").read_text()
    assert "navigator.clipboard" in script and "window.print" in script and "Blob" in script
