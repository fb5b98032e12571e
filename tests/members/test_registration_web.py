"""Registration through an invite, in a browser-like client: the token leaves the URL at once,
the form keeps what was typed on an error, TOTP enrolment is mandatory, codes are shown once."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from sqlalchemy import func, select

from forum.db import utcnow
from forum.extensions import db
from forum.members import invites
from forum.members.models import Member, RecoveryCode
from forum.security.audit import AuditEvent
from tests.support.accounts import (
    MemberBrowser,
    invite,
    recovery_codes_from_page,
    register,
    secret_from_page,
)
from tests.support.clients import Browser
from tests.support.members import TEST_PASSWORD


def _member_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Member))


def test_redeeming_moves_the_token_out_of_the_url_at_once(app, browser):
    token = invite("clean.url@example.org")
    response = browser.get(f"/invite/{token}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/join"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = browser.get("/join")
    assert page.status_code == 200
    assert token not in page.get_data(as_text=True)
    assert "Join the" in page.get_data(as_text=True)


def test_registration_error_keeps_the_input_and_says_why(app, browser):
    token = invite("keep.input@example.org")
    browser.get(f"/invite/{token}")
    response = browser.post(
        "/join",
        {
            "email": "keep.input@example.org",
            "name": "Jonas Verbeke",
            "password": "short",
            "confirm": "short",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Jonas Verbeke"' in html and 'value="keep.input@example.org"' in html
    assert "at least 12 characters" in html


def test_common_password_is_refused(app, browser):
    token = invite("common@example.org")
    browser.get(f"/invite/{token}")
    response = browser.post(
        "/join",
        {
            "email": "common@example.org",
            "name": "Nadia",
            "password": "password1234",
            "confirm": "password1234",
        },
    )
    assert response.status_code == 422
    assert "too common" in response.get_data(as_text=True)


def test_mismatched_confirmation_is_refused(app, browser):
    token = invite("mismatch@example.org")
    browser.get(f"/invite/{token}")
    response = browser.post(
        "/join",
        {
            "email": "mismatch@example.org",
            "name": "Nadia",
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD + "x",
        },
    )
    assert response.status_code == 422
    assert "not the same" in response.get_data(as_text=True)


def test_registration_with_another_address_than_the_invited_one_creates_nothing(app, browser):
    token = invite("invited.person@example.org")
    browser.get(f"/invite/{token}")
    response = browser.post(
        "/join",
        {
            "email": "someone.else@example.org",
            "name": "Forwarded",
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "different e-mail address" in response.get_data(as_text=True)
    assert _member_count() == 0


def test_totp_enrolment_is_mandatory_and_a_wrong_code_creates_nothing(app, browser):
    token = invite("enrol@example.org")
    browser.get(f"/invite/{token}")
    browser.post(
        "/join",
        {
            "email": "enrol@example.org",
            "name": "Enrol",
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD,
        },
    )
    page = browser.get("/join/two-factor").get_data(as_text=True)
    assert "<svg" in page and "<script" not in page.split("</head>")[1]
    secret = secret_from_page(page)
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = browser.post("/join/two-factor", {"code": wrong})
    assert response.status_code == 422
    assert "not right" in response.get_data(as_text=True)
    assert _member_count() == 0
    assert browser.get("/").status_code == 302  # not signed in


def test_full_registration_signs_in_and_shows_ten_recovery_codes_once(app):
    done = register(app, "full@example.org", name="Lucía Fernández")
    assert len(done.recovery_codes) == 10 and len(set(done.recovery_codes)) == 10
    stored = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.member_id == done.member.id)
    ).all()
    assert len(stored) == 10
    assert all(code.encode() not in h for h in stored for code in done.recovery_codes)
    home = done.browser.get("/")
    assert home.status_code == 200
    assert "Lucía Fernández" in home.get_data(as_text=True)
    assert done.member.totp_secret_sealed is not None
    assert done.secret.encode() not in done.member.totp_secret_sealed
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "member.registered"))
        is not None
    )


def test_expired_invite_page_says_why_in_plain_words(app, browser):
    created, token = invites.create_invite("expired.web@example.org")
    created.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    browser.get(f"/invite/{token}")
    page = browser.get("/join")
    assert page.status_code == 410
    assert "This invitation has expired" in page.get_data(as_text=True)
    response = browser.post(
        "/join",
        {
            "email": "expired.web@example.org",
            "name": "Late",
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD,
        },
    )
    assert response.status_code == 410
    assert _member_count() == 0


def test_revoked_invite_page_says_why(app, browser, coordinator):
    created, token = invites.create_invite("revoked.web@example.org", inviter=coordinator)
    invites.revoke_invite(created, actor=coordinator)
    db.session.commit()
    browser.get(f"/invite/{token}")
    page = browser.get("/join")
    assert page.status_code == 410
    assert "withdrawn" in page.get_data(as_text=True)


def test_unknown_invite_token_says_the_link_is_not_valid(app, browser):
    browser.get("/invite/not-a-real-token")
    page = browser.get("/join")
    assert page.status_code == 404
    assert "not valid" in page.get_data(as_text=True)


def test_a_used_invite_cannot_register_a_second_account(app):
    token = invite("one.account@example.org")
    first = app.test_client()
    second = app.test_client()
    a, b = MemberBrowser(first), MemberBrowser(second)
    for br in (a, b):
        br.get(f"/invite/{token}")
    a.post(
        "/join",
        {
            "email": "one.account@example.org",
            "name": "A",
            "password": TEST_PASSWORD,
            "confirm": TEST_PASSWORD,
        },
    )
    secret = secret_from_page(a.get("/join/two-factor").get_data(as_text=True))
    done = a.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert len(recovery_codes_from_page(done.get_data(as_text=True))) == 10
    page = b.get("/join")
    assert page.status_code == 410
    assert "already been used" in page.get_data(as_text=True)
    assert _member_count() == 1


def test_join_form_shows_every_error_at_once_each_at_its_field(app):
    """Issue 10 item 13: all the problems at once, each at its field, the text kept."""
    token = invite("all.errors@example.org")
    browser = MemberBrowser(app.test_client())
    browser.get(f"/invite/{token}")
    response = browser.post(
        "/join",
        {
            "email": "someone.else@example.org",
            "name": "   ",
            "password": "password123456",
            "confirm": "password1234567",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)

    def field_block(name: str) -> str:
        start = page.index(f'name="{name}"')
        return page[start : page.index("</div>", start)]

    assert "sent to a different e-mail address" in field_block("email")
    assert "Please give your name." in field_block("name")
    assert "This password" in field_block("password")
    assert "The two passwords are not the same." in field_block("confirm")
    assert 'value="someone.else@example.org"' in page  # the text is kept...
    assert "password123456" not in page  # ...but never the passwords


def test_the_recovery_codes_page_carries_a_token_of_the_new_session(app):
    """Joining signs the browser in (a new cookie session) in the request that shows the codes:
    the forms on that page must work, and the page offers no language switch (it would lose
    the codes, shown once)."""
    email = "fresh@example.org"
    token = invite(email)
    browser = Browser(app.test_client())
    browser.get(f"/invite/{token}")
    browser.post(
        "/join",
        {"email": email, "name": "Ada Fresh", "password": TEST_PASSWORD, "confirm": TEST_PASSWORD},
    )
    secret = secret_from_page(browser.get("/join/two-factor").get_data(as_text=True))
    page = browser.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and len(recovery_codes_from_page(html)) == 10
    assert 'action="/language"' not in html
    page_token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    signed_out = browser.post("/sign-out", {"csrf_token": page_token})
    assert signed_out.status_code == 302 and "/sign-in" in signed_out.headers["Location"]
    assert browser.get("/").status_code == 302  # the sign-out took: the token was good


def test_the_time_zone_chosen_on_the_join_form_is_the_new_members(app, browser):
    """Quiet hours, calls and deadlines follow it: a member who never visits her profile is
    not left on UTC (found by the review: 22:00–07:00 quiet hours ran an hour late in Lyon)."""
    token = invite("zone@example.org")
    browser.get(f"/invite/{token}")
    page = browser.get("/join").get_data(as_text=True)
    assert 'name="timezone"' in page and "data-zone-from-browser" in page  # asked of the browser
    typed = {"email": "zone@example.org", "name": "Zoé Lyon", "password": TEST_PASSWORD}
    refused = browser.post("/join", {**typed, "confirm": TEST_PASSWORD, "timezone": "Mars/Olympus"})
    assert refused.status_code == 422
    assert "Zoé Lyon" in refused.get_data(as_text=True)  # what she typed is kept
    assert _member_count() == 0
    done = browser.post("/join", {**typed, "confirm": TEST_PASSWORD, "timezone": "Europe/Paris"})
    assert done.status_code == 302
    back = browser.get("/join").get_data(as_text=True)  # going back a step keeps her choice
    assert re.search(r'<option selected value="Europe/Paris">', back)
    assert "data-zone-from-browser" not in back
    secret = secret_from_page(browser.get("/join/two-factor").get_data(as_text=True))
    assert browser.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()}).status_code == 200
    [member] = [m for m in db.session.scalars(select(Member)) if m.email == "zone@example.org"]
    assert member.timezone == "Europe/Paris"


def _wrong(code: str) -> str:
    return f"{(int(code) + 500000) % 1000000:06d}"


def test_a_mistyped_first_code_keeps_the_time_zone_and_language(app, browser):
    """Found by the review: both left the session before the code was checked."""
    token = invite("zone.typo@example.org")
    browser.get(f"/invite/{token}")
    browser.get("/join")
    typed = {
        "email": "zone.typo@example.org",
        "name": "Zoé Lyon",
        "password": TEST_PASSWORD,
        "confirm": TEST_PASSWORD,
        "timezone": "Europe/Paris",
        "locale": "fr",
    }
    assert browser.post("/join", typed).status_code == 302
    secret = secret_from_page(browser.get("/join/two-factor").get_data(as_text=True))
    code = pyotp.TOTP(secret).now()
    refused = browser.post("/join/two-factor", {"code": _wrong(code)})
    assert refused.status_code in (200, 422)
    assert browser.post("/join/two-factor", {"code": code}).status_code == 200
    [member] = [m for m in db.session.scalars(select(Member)) if m.email == "zone.typo@example.org"]
    assert member.timezone == "Europe/Paris"
    assert member.locale == "fr"
