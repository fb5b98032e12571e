"""Accounts for the members tests: invites through the service, registration and sign-in through
the web, codes computed with pyotp the way a phone would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyotp
from flask import Flask

from forum.db import utcnow
from forum.extensions import db
from forum.members import invites, totp
from forum.members.models import Member
from tests.support.clients import Browser
from tests.support.members import TEST_PASSWORD

NEW_PASSWORD = "plum orchard lantern 1987"


def code_for_step(secret: str, step: int) -> str:
    """The six digits of a time step."""
    return pyotp.TOTP(secret).at(step * totp.STEP_SECONDS)


def current_step() -> int:
    return int(utcnow().timestamp()) // totp.STEP_SECONDS


def fresh_code(secret: str, member: Member) -> str:
    """A code the server accepts now and has not seen: a later step within the window."""
    db.session.refresh(member)
    step = max(member.totp_last_step + 1, current_step() - totp.WINDOW)
    assert step <= current_step() + totp.WINDOW, "no unused step left in the window"
    return code_for_step(secret, step)


def give_totp(member: Member) -> str:
    """Enrol a TOTP secret for a member built by the fixtures; returns the secret."""
    secret = totp.new_secret()
    totp.seal_secret(member, secret)
    db.session.commit()
    return secret


def secret_from_page(html: str) -> str:
    match = re.search(r'data-secret="([A-Z2-7]+)"', html)
    assert match, "the enrolment page shows the secret as text"
    return match.group(1)


def recovery_codes_from_page(html: str) -> list[str]:
    return re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", html)


class MemberBrowser(Browser):
    """The shared Browser (each request in its own app context); kept as a name for these tests."""


@dataclass
class Registered:
    member: Member
    secret: str
    recovery_codes: list[str]
    browser: Browser
    email: str


def invite(email: str, **kwargs: Any) -> str:
    """Invite an address through the service; returns the raw token."""
    _invite, token = invites.create_invite(email, **kwargs)
    db.session.commit()
    return token


def register(
    app: Flask, email: str, name: str = "Amira Haddad", password: str = TEST_PASSWORD
) -> Registered:
    """Invite and register someone through the web, as a browser would."""
    token = invite(email)
    browser = MemberBrowser(app.test_client())
    response = browser.get(f"/invite/{token}")
    assert response.status_code == 303
    response = browser.post(
        "/join", {"email": email, "name": name, "password": password, "confirm": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = browser.get("/join/two-factor").get_data(as_text=True)
    secret = secret_from_page(page)
    response = browser.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = recovery_codes_from_page(response.get_data(as_text=True))
    member = db.session.execute(db.select(Member).order_by(Member.created_at.desc())).scalars()
    found = next(m for m in member if m.email == email)
    return Registered(found, secret, codes, browser, email)


def sign_in(browser: Browser, email: str, password: str, code: str | None) -> Any:
    """Both sign-in steps; returns the last response."""
    response = browser.post("/sign-in", {"email": email, "password": password})
    if response.status_code != 302 or code is None:
        return response
    return browser.post("/sign-in/code", {"code": code})
