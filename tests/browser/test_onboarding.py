"""Onboarding in real Chromium: an invitation mailed through the outbox, registration with a
TOTP authenticator (codes computed with pyotp from the secret the page shows), sign-out, and
sign-in again with password and a fresh TOTP code."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import expect

from forum.extensions import db
from forum.members import invites
from forum.notify.dispatcher import dispatch_due
from tests.support.live import LiveServer

EMAIL = "onboarding.browser@example.org"
PASSWORD = "quiet harbour violin 2026"


def test_invite_register_with_totp_sign_out_and_sign_in_again(
    page: Any, live_server: LiveServer, live_members: Any
) -> None:
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    coordinator = live_members.coordinator(name="Browser Coordinator")
    invites.create_invite(EMAIL, organisation_name="Victim Support Europe", inviter=coordinator)
    db.session.commit()
    assert dispatch_due().claimed == 1
    [mail] = live_server.mailbox.to(EMAIL)
    link = re.search(r"http://127\.0\.0\.1:\d+/invite/\S+", mail.get_content()).group(0)

    # The invite link: the token leaves the address bar at once.
    page.goto(link)
    assert page.url == live_server.link("/join")
    page.fill("#email", EMAIL)
    page.fill("#name", "Ines Browser")
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.click("button[type=submit]")

    # Authenticator enrolment: a server-rendered QR code and the secret as text.
    page.wait_for_url(live_server.link("/join/two-factor"))
    assert page.locator("figure.qr svg").count() == 1
    secret = page.locator("#totp-secret").get_attribute("data-secret")
    # On the phone itself: a link to tap, and the key (in groups of four) with a copy button.
    assert page.locator("#otpauth-link").get_attribute("href").startswith("otpauth://totp/")
    expect(page.locator("[data-copy-from]")).to_be_visible()
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.locator("#recovery-codes code").first.wait_for()  # the next page has loaded
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    # Copy, download and print, from static/members.js (the CSP allows no inline script).
    expect(page.locator("button:has-text('Print')")).to_be_visible()
    with page.expect_download() as download_info:
        page.click("button:has-text('Download')")
    saved = Path(download_info.value.path()).read_text()
    assert all(code in saved for code in codes)
    page.click("text=I have saved them")
    expect(page.locator("h1")).to_contain_text("Welcome, Ines Browser")

    # Sign out, then sign in again with the password and a fresh code.
    page.click("header button:has-text('Sign out')")
    page.wait_for_url(re.compile(r".*/sign-in$"))
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.link("/sign-in/code"))
    # The code of the next time step: the one used at enrolment is never accepted twice.
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("button[type=submit]")
    page.wait_for_url(live_server.link("/"))
    expect(page.locator("h1")).to_contain_text("Welcome, Ines Browser")
    # No CSP violation or script error on any page of the journey (a missing favicon is not one).
    assert not [e for e in console_errors if "favicon" not in e and "404" not in e]


def test_the_join_form_offers_the_time_zone_the_phone_lives_in(
    chromium: Any, live_server: LiveServer, live_members: Any
) -> None:
    coordinator = live_members.coordinator(name="Zone Coordinator")
    _, token = invites.create_invite("lisbon@example.org", inviter=coordinator)
    db.session.commit()
    context = chromium.new_context(base_url=live_server.url, timezone_id="Europe/Lisbon")
    try:
        page = context.new_page()
        page.goto(live_server.link(f"/invite/{token}"))
        expect(page.get_by_label("Time zone")).to_have_value("Europe/Lisbon")
    finally:
        context.close()
