"""Canary: an e-mail address, a name and a TOTP secret written through the web appear nowhere in
the database (SQLite file and its WAL, or every PostgreSQL row), the log, or the mail the SMTP
server received — except the invite's own To header, which must carry the address."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pyotp
from sqlalchemy import text

from forum.extensions import db
from forum.members.services import find_member_by_email
from forum.notify.dispatcher import dispatch_due
from tests.support.accounts import (
    MemberBrowser,
    fresh_code,
    recovery_codes_from_page,
    secret_from_page,
    sign_in,
)
from tests.support.members import TEST_PASSWORD


def _database_bytes(backend: str, instance: Path) -> bytes:
    db.session.commit()
    if backend == "sqlite":
        found = b""
        for suffix in ("", "-wal", "-journal"):
            path = instance / f"exchange.db{suffix}"
            if path.exists():
                found += path.read_bytes()
        assert found, "the SQLite database file exists"
        return found
    dump = []
    tables = db.session.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ).scalars()
    for table in list(tables):
        query = text(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608 - catalogue names
        rows = db.session.execute(query).scalars()
        dump.extend(rows)
    return "\n".join(dump).encode("utf-8")


def _variants(value: str) -> list[bytes]:
    raw = value.encode("utf-8")
    return [raw, raw.lower(), raw.upper(), raw.hex().encode(), value.encode("utf-16-le")]


def test_canary_address_name_and_secret_are_nowhere_in_the_clear(
    app, backend, instance, mailbox, caplog, coordinator, make_browser
):
    caplog.set_level(logging.DEBUG)
    canary = f"canary-{secrets.token_hex(6)}@example.org"
    name = f"Canary Name {secrets.token_hex(4)}"

    admin = make_browser(coordinator)
    assert admin.post("/admin/invites", {"email": canary, "role": "member"}).status_code == 302
    result = dispatch_due()
    assert result.claimed == 1
    [invite_mail] = mailbox.to(canary)
    assert str(invite_mail["To"]) == canary
    body = invite_mail.get_content()
    assert canary not in body
    link = next(line for line in body.splitlines() if "/invite/" in line).strip()
    token = link.rsplit("/", 1)[1]

    newcomer = MemberBrowser(app.test_client())
    newcomer.get(f"/invite/{token}")
    response = newcomer.post(
        "/join",
        {"email": canary, "name": name, "password": TEST_PASSWORD, "confirm": TEST_PASSWORD},
    )
    assert response.status_code == 302
    secret = secret_from_page(newcomer.get("/join/two-factor").get_data(as_text=True))
    done = newcomer.post("/join/two-factor", {"code": pyotp.TOTP(secret).now()})
    codes = recovery_codes_from_page(done.get_data(as_text=True))
    assert len(codes) == 10
    newcomer.post("/sign-out")

    member = find_member_by_email(canary)
    again = MemberBrowser(app.test_client())
    assert sign_in(again, canary, TEST_PASSWORD, fresh_code(secret, member)).status_code == 302
    assert again.get("/profile").status_code == 200

    stored = _database_bytes(backend, instance)
    # Everything the application logged (aiosmtpd's own debug log is the test's mail server).
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("mail.log")
    )
    for value in (canary, name, secret, token, *codes):
        for form in _variants(value):
            assert form not in stored, f"{value!r} found in the database"
        assert value not in logged, f"{value!r} found in the log"
    for raw in mailbox.raw:
        headers, _, payload = raw.partition(b"\r\n\r\n")
        if not payload:
            headers, _, payload = raw.partition(b"\n\n")
        for form in _variants(canary):
            assert form not in payload, "the address is in a mail body"
        assert secret.encode() not in raw and name.encode() not in raw
        to_lines = [line for line in headers.splitlines() if canary.encode() in line]
        assert all(line.startswith(b"To:") for line in to_lines)
