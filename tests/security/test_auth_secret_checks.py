"""Issue 9 item 8: every check of a secret is rate limited before it reaches Argon2id (or the
TOTP check), and no password hash runs while the request holds the database's write lock."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from forum.members import passwords, totp
from tests.support.accounts import MemberBrowser, invite
from tests.support.hashing import CountingHasher
from tests.support.members import TEST_PASSWORD

NEW = "plum orchard lantern 1987"


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    hasher = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    return hasher


def test_wrong_current_passwords_stop_reaching_argon2(app, members, make_browser, counting):
    member = members.make()
    browser = make_browser(member)
    codes = [
        browser.post(
            "/account/password", {"current": f"wrong {n}", "new": NEW, "confirm": NEW}
        ).status_code
        for n in range(20)
    ]
    assert codes.count(422) == 5 and set(codes[5:]) == {429}
    assert counting.verify_calls == 5


def test_reauth_and_password_change_share_one_bucket_per_member(
    app, members, make_browser, counting
):
    member = members.make()
    browser = make_browser(member)
    for n in range(3):
        assert browser.post("/account/confirm", {"password": f"wrong {n}"}).status_code == 422
    for n in range(2):
        response = browser.post(
            "/account/password", {"current": f"wrong {n}", "new": NEW, "confirm": NEW}
        )
        assert response.status_code == 422
    assert browser.post("/account/confirm", {"password": TEST_PASSWORD}).status_code == 429
    # The bucket is the member's, not the browser's: a second browser of the same member waits.
    assert make_browser(member).post("/account/confirm", {"password": "x"}).status_code == 429
    assert counting.verify_calls == 5


def test_new_authenticator_codes_are_rate_limited(app, members, make_browser, monkeypatch):
    member = members.make()
    browser = make_browser(member)
    assert browser.post("/account/confirm", {"password": TEST_PASSWORD}).status_code == 302
    assert browser.post("/account/two-factor", {"start": "1"}).status_code == 302
    checks = []
    real = totp.matching_step
    monkeypatch.setattr(totp, "matching_step", lambda *a, **k: checks.append(1) or real(*a, **k))
    codes = [browser.post("/account/two-factor", {"code": "000000"}).status_code for _ in range(12)]
    assert 429 in codes and len(checks) <= 5


def test_invitee_totp_codes_are_rate_limited(app, monkeypatch):
    token = invite("limited.invitee@example.org")
    browser = MemberBrowser(app.test_client())
    browser.get(f"/invite/{token}")
    joined = browser.post(
        "/join",
        {"email": "limited.invitee@example.org", "name": "Ina", "password": NEW, "confirm": NEW},
    )
    assert joined.status_code == 302
    checks = []
    real = totp.matching_step
    monkeypatch.setattr(totp, "matching_step", lambda *a, **k: checks.append(1) or real(*a, **k))
    codes = [browser.post("/join/two-factor", {"code": "000000"}).status_code for _ in range(10)]
    assert 429 in codes and len(checks) <= 5


def _writer_probe(database: Path) -> Any:
    """During a hash: can another connection take SQLite's write lock at once?"""

    def probe() -> bool:
        other = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:  # "database is locked": the request holds the lock
            return False
        finally:
            other.close()

    return probe


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_password_change_hashes_outside_the_write_lock(
    app, members, make_browser, instance, monkeypatch
):
    member = members.make()
    browser = make_browser(member)
    hasher = CountingHasher(passwords._hasher, probe=_writer_probe(instance / "exchange.db"))
    monkeypatch.setattr(passwords, "_hasher", hasher)
    response = browser.post(
        "/account/password", {"current": TEST_PASSWORD, "new": NEW, "confirm": NEW}
    )
    assert response.status_code == 302
    assert hasher.hash_calls == 1 and hasher.verify_calls >= 1
    assert hasher.probes and all(hasher.probes), "a hash ran while the write lock was held"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_registration_and_sign_in_hash_outside_the_write_lock(app, members, instance, monkeypatch):
    token = invite("lockfree@example.org")
    hasher = CountingHasher(passwords._hasher, probe=_writer_probe(instance / "exchange.db"))
    monkeypatch.setattr(passwords, "_hasher", hasher)
    browser = MemberBrowser(app.test_client())
    browser.get(f"/invite/{token}")
    joined = browser.post(
        "/join", {"email": "lockfree@example.org", "name": "Lou", "password": NEW, "confirm": NEW}
    )
    assert joined.status_code == 302
    member = members.make(email="signs.in@example.org")
    assert member is not None
    signed = browser.post("/sign-in", {"email": "signs.in@example.org", "password": TEST_PASSWORD})
    assert signed.status_code in (302, 422)
    assert hasher.hash_calls >= 1 and hasher.probes and all(hasher.probes)
