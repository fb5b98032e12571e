"""Signing in: password then a second factor; one generic error; codes accepted once;
rate limits decided before the password hash; every outcome audited."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from forum.extensions import db
from forum.security.audit import AuditEvent
from tests.support.accounts import (
    MemberBrowser,
    code_for_step,
    current_step,
    fresh_code,
    give_totp,
    register,
    sign_in,
)
from tests.support.members import TEST_PASSWORD


def _actions() -> list[str]:
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.at))]


def test_member_signs_in_with_password_and_totp(app, members, browser):
    member = members.make(email="signin@example.org", name="Sign In")
    secret = give_totp(member)
    first = browser.post("/sign-in", {"email": "SignIn@Example.org", "password": TEST_PASSWORD})
    assert first.status_code == 302 and first.headers["Location"] == "/sign-in/code"
    assert browser.get("/").status_code == 302  # not signed in after the password alone
    done = browser.post("/sign-in/code", {"code": fresh_code(secret, member)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    home = browser.get("/")
    assert home.status_code == 200 and "Sign In" in home.get_data(as_text=True)
    assert "sign_in" in _actions()


def test_wrong_address_and_wrong_password_get_the_same_generic_error(app, members, browser):
    members.make(email="exists@example.org")
    unknown = browser.post("/sign-in", {"email": "nobody@example.org", "password": TEST_PASSWORD})
    wrong = browser.post(
        "/sign-in", {"email": "exists@example.org", "password": "wrong password 1"}
    )
    assert unknown.status_code == wrong.status_code == 422
    message = "That e-mail address and password do not match an account."
    assert message in unknown.get_data(as_text=True)
    assert message in wrong.get_data(as_text=True)
    assert 'value="nobody@example.org"' in unknown.get_data(as_text=True)
    assert _actions().count("sign_in.failed") == 2


def test_suspended_member_gets_the_generic_error(app, members, browser, coordinator):
    member = members.make(email="suspended.signin@example.org")
    member.status = "suspended"
    db.session.commit()
    response = browser.post("/sign-in", {"email": member.email, "password": TEST_PASSWORD})
    assert response.status_code == 422
    assert "do not match an account" in response.get_data(as_text=True)


def test_a_totp_code_is_accepted_once_only(app, members, make_browser):
    member = members.make(email="replay@example.org")
    secret = give_totp(member)
    code = fresh_code(secret, member)
    first, second = make_browser(), make_browser()
    assert sign_in(first, member.email, TEST_PASSWORD, code).headers["Location"] == "/"
    replay = sign_in(second, member.email, TEST_PASSWORD, code)
    assert replay.status_code == 422
    assert "used already" in replay.get_data(as_text=True)
    assert second.get("/").status_code == 302


def test_an_older_code_than_the_last_used_one_is_refused(app, members, browser):
    member = members.make(email="older@example.org")
    secret = give_totp(member)
    member.totp_last_step = current_step() + 1
    db.session.commit()
    older = code_for_step(secret, current_step())
    response = sign_in(browser, member.email, TEST_PASSWORD, older)
    assert response.status_code == 422


def test_a_recovery_code_works_once(app):
    done = register(app, "recovery@example.org")
    code = done.recovery_codes[3]
    done.browser.post("/sign-out")
    other = MemberBrowser(app.test_client())
    ok = sign_in(other, done.email, TEST_PASSWORD, code.upper())
    assert ok.status_code == 302 and ok.headers["Location"] == "/"
    assert "recovery code" in other.get("/").get_data(as_text=True)
    third = MemberBrowser(app.test_client())
    again = sign_in(third, done.email, TEST_PASSWORD, code)
    assert again.status_code == 422
    assert "recovery_code.used" in _actions()


def test_six_sign_in_attempts_per_address_per_minute_then_a_friendly_429(app, members, browser):
    member = members.make(email="limited@example.org")
    for _ in range(6):
        response = browser.post("/sign-in", {"email": member.email, "password": "not it at all"})
        assert response.status_code == 422
    blocked = browser.post("/sign-in", {"email": "LIMITED@example.org", "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert "sign_in.locked_out" in _actions()
    # Another member's address is not affected by this flood.
    other = members.make(email="unaffected@example.org")
    assert (
        browser.post("/sign-in", {"email": other.email, "password": TEST_PASSWORD}).status_code
        == 302
    )


def test_the_limit_is_decided_before_the_password_is_checked(app, members, browser):
    member = members.make(email="before.hash@example.org")
    for _ in range(6):
        browser.post("/sign-in", {"email": member.email, "password": "not it at all"})
    failures_before = _actions().count("sign_in.failed")
    blocked = browser.post("/sign-in", {"email": member.email, "password": TEST_PASSWORD})
    assert blocked.status_code == 429
    # The right password did not even reach the check: no new failure, no pending second step.
    assert _actions().count("sign_in.failed") == failures_before
    assert "sign_in.password_ok" not in _actions()


def test_five_second_factor_attempts_per_five_minutes(app, members, browser):
    member = members.make(email="twofa.limit@example.org")
    secret = give_totp(member)
    assert (
        browser.post("/sign-in", {"email": member.email, "password": TEST_PASSWORD}).status_code
        == 302
    )
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 5) % 1_000_000:06d}"
    for _ in range(5):
        assert browser.post("/sign-in/code", {"code": wrong}).status_code == 422
    blocked = browser.post("/sign-in/code", {"code": fresh_code(secret, member)})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert browser.get("/").status_code == 302


def test_second_step_without_the_first_goes_back_to_sign_in(app, browser):
    response = browser.get("/sign-in/code")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(app, members, browser):
    member = members.make(email="next@example.org")
    secret = give_totp(member)
    browser.post("/sign-in", {"email": member.email, "password": TEST_PASSWORD, "next": "/members"})
    done = browser.post("/sign-in/code", {"code": fresh_code(secret, member)})
    assert done.headers["Location"] == "/members"
    browser.post("/sign-out")
    browser.post(
        "/sign-in", {"email": member.email, "password": TEST_PASSWORD, "next": "//evil.example/x"}
    )
    done = browser.post("/sign-in/code", {"code": fresh_code(secret, member)})
    assert done.headers["Location"] == "/"


def test_sign_out_ends_the_session_on_the_server(app, members, make_browser):
    member = members.make()
    signed_in = make_browser(member)
    with signed_in.client.session_transaction() as cookie:
        stolen = dict(cookie)
    assert signed_in.get("/").status_code == 200
    assert signed_in.post("/sign-out").status_code == 302
    # Replaying the old cookie does not work: the server session has ended.
    with signed_in.client.session_transaction() as cookie:
        cookie.update(stolen)
    assert signed_in.get("/").status_code == 302
