"""Issue 9 item 18: cookies and passwords as ASVS 5.0 L2 asks: `__Host-` names over https,
nothing secret readable in a cookie (the invite token and the CSRF secret stay sealed), and new
passwords checked against a shipped list of common and breached passwords and a strength
estimate, with a plain message at the field."""

from __future__ import annotations

import base64
import re
import secrets
import zlib
from pathlib import Path

from forum import create_app
from forum.extensions import db
from tests.support.accounts import MemberBrowser, invite
from tests.support.app import make_test_config
from tests.support.members import TEST_PASSWORD


def _readable_parts(value: str) -> bytes:
    """Everything a client can decode out of a cookie value (base64 pieces, inflated)."""
    found = [value.encode()]
    for piece in re.split(r"[.]", value):
        try:
            raw = base64.urlsafe_b64decode(piece + "=" * (-len(piece) % 4))
        except ValueError:
            continue
        found.append(raw)
        try:
            found.append(zlib.decompress(raw))
        except zlib.error:
            pass
    return b"\n".join(found)


def test_invite_token_and_csrf_secret_are_not_readable_in_the_cookie(app):
    token = invite("sealed.cookie@example.org")
    browser = MemberBrowser(app.test_client())
    response = browser.get(f"/invite/{token}")
    assert response.status_code == 303
    browser.get("/join")
    cookie = browser.client.get_cookie("exchange_session")
    assert cookie is not None
    readable = _readable_parts(cookie.value)
    assert token.encode() not in readable
    assert b"invite_token" not in readable and b"csrf_token" not in readable
    # The sealed cookie still works: the join page is there, and a forged cookie is refused.
    assert browser.get("/join").status_code == 200
    browser.client.set_cookie("exchange_session", cookie.value[:-4] + "AAAA")
    assert browser.get("/join").status_code == 404  # no invite in a session that does not open


def test_cookies_carry_the_host_prefix_over_https(tmp_path: Path, smtp_server, members):
    from forum.crypto.envelope import ensure_keyring_matches
    from forum.crypto.keyring import create_keyring

    folder = tmp_path / "https-instance"
    folder.mkdir()
    create_keyring(folder / "keyring.json")
    config = make_test_config(folder, "sqlite", smtp_server[0].port)
    config["app"]["base_url"] = "https://exchange.example.org"
    config["security"]["cookie_secure"] = True
    config["app"]["secret_key"] = secrets.token_urlsafe(48)
    https_app = create_app(config, check_keyring=False)
    with https_app.app_context():
        db.create_all()
        ensure_keyring_matches()
        db.session.commit()
        client = https_app.test_client()
        response = client.get("/sign-in", base_url="https://exchange.example.org")
        headers = response.headers.getlist("Set-Cookie")
        session_cookie = [h for h in headers if "exchange_session" in h]
        assert session_cookie and session_cookie[0].startswith("__Host-exchange_session=")
        assert "Secure" in session_cookie[0] and "Path=/" in session_cookie[0]
        assert "Domain" not in session_cookie[0]
        db.session.remove()
        db.engine.dispose()


def test_common_and_weak_new_passwords_are_refused_at_the_field(app, members, make_browser):
    member = members.make(name="Noor Haddad")
    browser = make_browser(member)
    for weak in ("iloveyou2024!", "password123456", "noorhaddad2024"):
        response = browser.post(
            "/account/password", {"current": TEST_PASSWORD, "new": weak, "confirm": weak}
        )
        assert response.status_code == 422, weak
        page = response.get_data(as_text=True)
        # The message sits at the new-password field, in plain words.
        field = page[page.index('name="new"') :]
        assert re.search(
            r'class="field-error"><li>This password (is too common|would be easy)', field
        )
    strong = "plum orchard lantern 1987"
    response = browser.post(
        "/account/password", {"current": TEST_PASSWORD, "new": strong, "confirm": strong}
    )
    assert response.status_code == 302


def test_join_refuses_a_breached_password_at_its_field(app):
    token = invite("breached@example.org")
    browser = MemberBrowser(app.test_client())
    browser.get(f"/invite/{token}")
    weak = "qwertyuiop1234"
    response = browser.post(
        "/join", {"email": "breached@example.org", "name": "Bo", "password": weak, "confirm": weak}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This password" in page[page.index('name="password"') :]
