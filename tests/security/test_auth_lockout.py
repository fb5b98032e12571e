"""Issue 9 item 7: strangers guessing at an address from many source addresses must not lock its
owner out of a browser they signed in from before (OWASP device cookies), while the attacker
stays held to six password checks a minute for that address."""

from __future__ import annotations

from typing import Any

import pytest

from forum.members import passwords
from tests.support.accounts import MemberBrowser, fresh_code, give_totp
from tests.support.hashing import CountingHasher
from tests.support.members import TEST_PASSWORD


def _from(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def _sign_in_fully(browser: MemberBrowser, member: Any, secret: str, ip: str) -> None:
    first = browser.post(
        "/sign-in", {"email": member.email, "password": TEST_PASSWORD}, **_from(ip)
    )
    assert first.status_code == 302, first.status_code
    done = browser.post("/sign-in/code", {"code": fresh_code(secret, member)}, **_from(ip))
    assert done.status_code == 302 and done.headers["Location"] == "/"


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    hasher = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    return hasher


def _attack(app: Any, email: str, tries: int) -> list[int]:
    codes = []
    for n in range(tries):
        attacker = MemberBrowser(app.test_client())
        response = attacker.post(
            "/sign-in", {"email": email, "password": f"wrong guess {n}"}, **_from(f"198.51.{n}.7")
        )
        codes.append(response.status_code)
    return codes


def test_member_on_a_known_device_is_not_locked_out_by_a_distributed_guesser(
    app, members, counting
):
    member = members.make(email="target@example.org")
    secret = give_totp(member)
    own = MemberBrowser(app.test_client())
    _sign_in_fully(own, member, secret, "192.0.2.10")
    own.post("/sign-out", {}, **_from("192.0.2.10"))

    before = counting.verify_calls
    codes = _attack(app, member.email, 12)
    # The attacker, from twelve addresses, is held to six password checks for this address.
    # (the member's own first sign-in, before it had a device cookie, counted as one of them)
    assert codes.count(422) == 5 and set(codes[5:]) == {429}
    assert counting.verify_calls - before == 5

    # The member's own browser still reaches the password check and signs in.
    again = own.post(
        "/sign-in", {"email": member.email, "password": TEST_PASSWORD}, **_from("192.0.2.10")
    )
    assert again.status_code == 302 and again.headers["Location"] == "/sign-in/code"

    # A browser the member never signed in from is held like the attacker.
    stranger = MemberBrowser(app.test_client())
    refused = stranger.post(
        "/sign-in", {"email": member.email, "password": TEST_PASSWORD}, **_from("192.0.2.11")
    )
    assert refused.status_code == 429


def test_device_cookie_is_counted_on_its_own_and_is_revoked_by_a_password_change(
    app, members, counting
):
    member = members.make(email="device@example.org", name="Device Owner")
    secret = give_totp(member)
    own = MemberBrowser(app.test_client())
    _sign_in_fully(own, member, secret, "192.0.2.20")
    stolen_cookie = own.client.get_cookie("exchange_device")
    assert stolen_cookie is not None and stolen_cookie.http_only
    own.post("/sign-out", {}, **_from("192.0.2.20"))
    # The device's own counter: wrong passwords from the known device are limited too.
    codes = [
        own.post(
            "/sign-in", {"email": member.email, "password": f"typo {n}"}, **_from("192.0.2.20")
        ).status_code
        for n in range(7)
    ]
    assert codes[:6] == [422] * 6 and codes[6] == 429

    # The password changes elsewhere: the old device cookie no longer exempts anyone.
    other = MemberBrowser(app.test_client())
    _sign_in_fully(other, member, secret, "192.0.2.21")
    changed = other.post(
        "/account/password",
        {
            "current": TEST_PASSWORD,
            "new": "plum orchard lantern 1987",
            "confirm": "plum orchard lantern 1987",
        },
        **_from("192.0.2.21"),
    )
    assert changed.status_code == 302
    _attack(app, member.email, 8)  # the address is now held for strangers
    thief = MemberBrowser(app.test_client())
    thief.client.set_cookie("exchange_device", stolen_cookie.value)
    held = thief.post(
        "/sign-in",
        {"email": member.email, "password": "plum orchard lantern 1987"},
        **_from("192.0.2.30"),
    )
    assert held.status_code == 429
