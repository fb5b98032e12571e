"""Issue 9 item 14, "(and code)": a member with an authenticator confirms a grant of privilege
with the password AND a fresh code; the password alone, a wrong code or a replayed code is
refused, and the privileged page stays shut."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from forum.extensions import db
from forum.members.models import MemberSession
from tests.support.accounts import fresh_code, give_totp
from tests.support.members import TEST_PASSWORD


def _stale(member: Any) -> None:
    for row in db.session.scalars(
        select(MemberSession).where(MemberSession.member_id == member.id)
    ):
        row.reauth_at = row.reauth_at.replace(year=row.reauth_at.year - 1)
    db.session.commit()


def _shut(browser: Any) -> bool:
    response = browser.get("/account/two-factor")
    return response.status_code == 302 and "/account/confirm" in response.headers["Location"]


def test_the_password_alone_no_longer_confirms_a_member_with_an_authenticator(
    members, make_browser
):
    member = members.make(name="Ines Authenticated")
    secret = give_totp(member)
    browser = make_browser(member)
    _stale(member)
    assert _shut(browser)

    page = browser.get("/account/confirm?next=/account/two-factor").get_data(as_text=True)
    assert "Code from your authenticator app" in page

    alone = browser.post("/account/confirm", {"password": TEST_PASSWORD})
    assert alone.status_code == 422
    assert "password or code is not right" in alone.get_data(as_text=True)
    wrong = browser.post("/account/confirm", {"password": TEST_PASSWORD, "code": "000000"})
    assert wrong.status_code == 422
    assert _shut(browser)

    code = fresh_code(secret, member)
    both = browser.post(
        "/account/confirm",
        {"password": TEST_PASSWORD, "code": code, "next": "/account/two-factor"},
    )
    assert both.status_code == 302 and both.headers["Location"].endswith("/account/two-factor")
    assert not _shut(browser)

    _stale(member)
    replayed = browser.post("/account/confirm", {"password": TEST_PASSWORD, "code": code})
    assert replayed.status_code == 422, "a code is accepted once"
    assert _shut(browser)


def test_a_right_code_with_a_wrong_password_is_refused(members, make_browser):
    member = members.make(name="Jonas Guess")
    secret = give_totp(member)
    browser = make_browser(member)
    _stale(member)
    response = browser.post(
        "/account/confirm", {"password": "not the password 1", "code": fresh_code(secret, member)}
    )
    assert response.status_code == 422
    assert _shut(browser)
