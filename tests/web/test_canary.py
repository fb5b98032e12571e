"""Platform canary: unique strings written through the services of every feature — a member's
name and e-mail address, a thread's title and posts, an alert's title, place and needs — then
read on every page of the Exchange by several members and mailed out as notifications, appear
in the clear nowhere: not in the database file or its WAL (or any PostgreSQL row), not in the
log (captured at DEBUG), not in any mail the SMTP server received (the address only in the To
header of mail sent to it). Features add their own canaries in their own tests too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from forum.extensions import db
from tests.support.clients import Browser
from tests.support.mail import Mailbox
from tests.support.web import World
from tests.web.sweep import in_own_context, targets


def _database_bytes(app: Flask, instance: Path) -> bytes:
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        files = [instance / f"exchange.db{suffix}" for suffix in ("", "-wal", "-journal")]
        found = b"".join(path.read_bytes() for path in files if path.exists())
        assert found, "the SQLite database file exists"
        return found
    rows: list[str] = []
    tables = db.session.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ).scalars()
    for table in list(tables):
        query = text(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608 - catalogue names
        rows.extend(db.session.execute(query).scalars())
    return "\n".join(rows).encode("utf-8")


def _mail_leaks(mailbox: Mailbox, world: World) -> list[str]:
    leaks = []
    for raw, message in zip(mailbox.raw, mailbox.messages, strict=True):
        head, _, _ = raw.partition(b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n")
        decoded = "\n".join(
            part.get_content()
            for part in message.walk()
            if part.get_content_maintype() == "text"  # type: ignore[union-attr]
        )
        subject = str(message["Subject"])
        for value in world.texts:
            if value.encode() in raw or value in decoded or value in subject:
                leaks.append(f"{value!r} in a mail to {message['To']}")
        address = world.email.encode()
        if address in raw.replace(head, b"") or world.email in decoded:
            leaks.append("the canary address in a mail body")
        if any(address in line and not line.startswith(b"To:") for line in head.splitlines()):
            leaks.append("the canary address in a mail header other than To")
    return leaks


def test_canaries_written_through_the_platform_appear_nowhere_in_the_clear(
    app: Flask,
    world: World,
    instance: Path,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    errors = []
    for member in world.readers:
        browser = Browser(app.test_client()).sign_in_as(member)
        for target in targets(app, methods=("GET",), known=world.known_ids):
            response = in_own_context(app, browser.client.get, target.url)
            if response.status_code >= 500:
                errors.append(f"{target} as {member.role}: {response.status_code}")
        search = in_own_context(app, browser.client.get, "/threads/search?q=" + world.texts[3])
        assert search.status_code < 500
    # Someone read the canaries on their pages: the content did travel through the app.
    reader = Browser(app.test_client()).sign_in_as(world.readers[1])
    page = in_own_context(app, reader.client.get, f"/threads/{world.known_ids['thread_id']}")
    assert world.texts[3] in page.get_data(as_text=True)
    assert mailbox.messages, "notifications were mailed"

    stored = _database_bytes(app, instance)
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("mail.log")  # aiosmtpd: the test's own mail server
    )
    leaks = [f"{value!r} in the database" for value in world.canaries if value.encode() in stored]
    leaks += [f"{value!r} in the log" for value in world.canaries if value in logged]
    leaks += _mail_leaks(mailbox, world)
    assert not leaks, "confidential text in the clear:\n" + "\n".join(leaks)
    assert not errors, "pages that failed with real objects:\n" + "\n".join(errors)
