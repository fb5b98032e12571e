"""Attacks on the bounce receiver, as anyone who can reach its port would try them: a forged or
altered token, an address that is not one of ours, a flood, reports that are not failures, a
report that names another row, and reading back what a report said from the database or logs."""

from __future__ import annotations

import logging
import secrets
import smtplib
from pathlib import Path

import pytest
from sqlalchemy import text

from forum.extensions import db
from forum.notify import bounces
from forum.notify.bounces import MAX_BYTES, record_bounce
from forum.notify.models import OutboxMessage
from forum.notify.verp import TOKEN_LENGTH, Verp
from tests.platform.bounce_helpers import BOUNCE_ADDRESS, alert_by_email, email_row
from tests.support.bounces import DIAGNOSTIC, deliver, out_of_office, postfix_report


def _refused(port: int, address: str) -> int:
    """Offer one recipient to the receiver; the SMTP code it answers RCPT with."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as relay:
        relay.ehlo()
        relay.mail("<>")
        code, _ = relay.rcpt(address)
        return code


def _altered(address: str) -> str:
    """The same VERP address with one character of its token changed."""
    local, domain = address.split("@")
    prefix, token = local.split("+")
    position = len(token) // 2
    swapped = "a" if token[position] != "a" else "b"
    return f"{prefix}+{token[:position]}{swapped}{token[position + 1 :]}@{domain}"


def _same_bytes_other_spelling(address: str) -> str:
    """The VERP address with the unused low bits of its token's last character set: base32
    decodes it to the same bytes, but it is not the token the Exchange made."""
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    local, domain = address.split("@")
    last = alphabet.index(local[-1])
    return f"{local[:-1]}{alphabet[last ^ 1]}@{domain}"


def test_a_forged_or_altered_token_is_refused_with_550(app, members, mailbox, bounce_receiver):
    mailed = alert_by_email(members, mailbox, "forged@member.invictm.test")
    port = bounce_receiver.address[1]
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    forged = "".join(secrets.choice(alphabet) for _ in range(TOKEN_LENGTH))
    assert _refused(port, f"bounces+{forged}@exchange.invictm.test") == 550
    assert _refused(port, _altered(mailed.envelope)) == 550
    assert _refused(port, _same_bytes_other_spelling(mailed.envelope)) == 550
    # A token another Exchange made (another secret key) for this very row.
    elsewhere = Verp(BOUNCE_ADDRESS, secrets.token_urlsafe(48)).address_for(mailed.row_id)
    assert elsewhere is not None and _refused(port, elsewhere) == 550
    # The real one, in the case some relays fold it to, is taken.
    assert _refused(port, mailed.envelope.upper()) == 250
    assert email_row(mailed.row_id).status == "sent"


@pytest.mark.parametrize(
    "address",
    [
        "bounces@exchange.invictm.test",
        "postmaster@exchange.invictm.test",
        "bounces+@exchange.invictm.test",
        "someone.else@exchange.invictm.test",
    ],
)
def test_an_address_that_is_not_a_verp_address_of_this_exchange_is_refused(
    app, bounce_receiver, address
):
    assert _refused(bounce_receiver.address[1], address) == 550


def test_a_real_token_at_another_domain_is_refused(app, members, mailbox, bounce_receiver):
    mailed = alert_by_email(members, mailbox, "domain@member.invictm.test")
    local = mailed.envelope.split("@")[0]
    assert _refused(bounce_receiver.address[1], f"{local}@elsewhere.invictm.test") == 550


def test_a_message_over_the_size_limit_is_refused_with_552(app, members, mailbox, bounce_receiver):
    mailed = alert_by_email(members, mailbox, "big@member.invictm.test")
    report = postfix_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    filler = (b"x" * 76 + b"\r\n") * (MAX_BYTES // 78 + 1)  # lines as a relay writes them
    padded = report.replace(b"This is a MIME-encapsulated", filler + b"This is a MIME-encapsulated")
    port = bounce_receiver.address[1]
    # A relay that declares the size (SIZE=, RFC 1870) is refused at MAIL FROM...
    with pytest.raises(smtplib.SMTPSenderRefused) as declared:
        deliver(port, mailed.envelope, padded)
    assert declared.value.smtp_code == 552
    # ...and one that does not is refused once the data passes the limit.
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as relay:
        relay.ehlo()
        relay.mail("<>")
        relay.rcpt(mailed.envelope)
        code, _ = relay.data(padded)
    assert code == 552
    assert email_row(mailed.row_id).status == "sent"


def test_an_auto_reply_and_a_delay_warning_are_taken_and_change_nothing(
    app, members, mailbox, bounce_receiver
):
    mailed = alert_by_email(members, mailbox, "away@member.invictm.test")
    port = bounce_receiver.address[1]
    deliver(
        port, mailed.envelope, out_of_office(envelope=mailed.envelope, recipient=mailed.address)
    )
    delayed = postfix_report(
        envelope=mailed.envelope,
        recipient=mailed.address,
        original=mailed.raw,
        action="delayed",
        status="4.4.1",
    )
    deliver(port, mailed.envelope, delayed)  # 250: smtplib raises on anything else
    for action in ("delivered", "relayed", "expanded"):
        notice = postfix_report(
            envelope=mailed.envelope,
            recipient=mailed.address,
            original=mailed.raw,
            action=action,
            status="2.0.0",
        )
        deliver(port, mailed.envelope, notice)
    row = email_row(mailed.row_id)
    assert (row.status, row.bounced_at, row.bounce_code) == ("sent", None, None)


def test_only_the_envelope_token_counts_not_a_token_named_in_the_report(
    app, members, mailbox, bounce_receiver
):
    first = alert_by_email(members, mailbox, "first@member.invictm.test")
    mailbox.clear()
    second = alert_by_email(members, mailbox, "second@member.invictm.test")
    # A report delivered to the first row's address that names the second row everywhere inside.
    report = postfix_report(
        envelope=first.envelope,
        recipient=second.address,
        original=second.raw,
        sender_in_body=second.envelope,
    )
    deliver(bounce_receiver.address[1], first.envelope, report)
    assert email_row(first.row_id).status == "bounced"
    assert email_row(second.row_id).status == "sent"


def test_a_bounce_for_a_row_that_is_not_a_sent_email_changes_nothing(app, members, mailbox):
    mailed = alert_by_email(members, mailbox, "rows@member.invictm.test")
    # Rows a token could name but no bounce may change: a pushed and a posted message that went
    # out, an e-mail that never left (waiting, given up).
    shapes = [("push", "sent"), ("webhook", "sent"), ("email", "pending"), ("email", "failed")]
    others = [
        OutboxMessage(
            idempotency_key=f"test:{channel}:{status}",
            channel=channel,
            status=status,
            kind="alert.raised",
            subject="s",
            body="b",
            link="/",
        )
        for channel, status in shapes
    ]
    db.session.add_all(others)
    db.session.commit()
    ids = [row.id for row in others]
    for row_id in [*ids, secrets.token_hex(16)]:  # the last: a row that is gone
        assert record_bounce(row_id, "5.1.1") is False
        db.session.commit()
    assert record_bounce(mailed.row_id, "5.1.1") is True
    db.session.commit()
    assert record_bounce(mailed.row_id, "5.2.2") is False  # once only
    db.session.commit()
    assert [email_row(row_id).status for row_id in ids] == [status for _, status in shapes]
    assert email_row(mailed.row_id).bounce_code == "5.1.1"


def test_no_diagnostic_or_address_reaches_the_database_or_the_logs(
    app, backend, members, mailbox, bounce_receiver, caplog
):
    caplog.set_level(logging.DEBUG)
    address = "zofia.kowalska-canary@member.invictm.test"
    mailed = alert_by_email(members, mailbox, address)
    report = postfix_report(envelope=mailed.envelope, recipient=address, original=mailed.raw)
    deliver(bounce_receiver.address[1], mailed.envelope, report)
    assert email_row(mailed.row_id).status == "bounced"
    db.session.remove()
    secrets_said = [DIAGNOSTIC, address, "zofia"]
    if backend == "sqlite":
        database = Path(app.instance_path) / "exchange.db"
        stored = b"".join(
            path.read_bytes()
            for path in database.parent.glob("exchange.db*")  # the file, its WAL and shm
        )
        assert database.exists()
    else:
        with db.engine.connect() as connection:
            stored = "\n".join(
                connection.execute(text("SELECT CAST(o AS text) FROM outbox o")).scalars()
            ).encode()
    for secret in secrets_said:
        assert secret.encode() not in stored, secret
        assert secret.lower() not in caplog.text.lower(), secret
    assert mailed.row_id in caplog.text  # what the log says: the row id, and the code
    assert "5.1.1" in caplog.text


def test_a_report_that_cannot_be_recorded_is_deferred_with_451_for_the_relay_to_retry(
    app, members, mailbox, bounce_receiver, monkeypatch
):
    mailed = alert_by_email(members, mailbox, "later@member.invictm.test")

    def database_down(row_id: str, status: str | None) -> bool:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(bounces, "record_bounce", database_down)
    report = postfix_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    with pytest.raises(smtplib.SMTPDataError) as deferred:
        deliver(bounce_receiver.address[1], mailed.envelope, report)
    assert deferred.value.smtp_code == 451  # a temporary answer: the relay keeps it and retries
    monkeypatch.undo()
    deliver(bounce_receiver.address[1], mailed.envelope, report)
    assert email_row(mailed.row_id).status == "bounced"


def test_a_message_the_parser_chokes_on_is_taken_and_its_text_not_logged(
    app, members, mailbox, bounce_receiver, monkeypatch, caplog
):
    mailed = alert_by_email(members, mailbox, "garbled@member.invictm.test")

    def choke(content: bytes) -> bounces.Report:
        raise ValueError(f"cannot parse {DIAGNOSTIC}")

    monkeypatch.setattr(bounces, "read_report", choke)
    report = postfix_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    with caplog.at_level(logging.DEBUG):
        deliver(bounce_receiver.address[1], mailed.envelope, report)  # 250: nothing to retry
    assert email_row(mailed.row_id).status == "sent"
    assert "ValueError" in caplog.text and DIAGNOSTIC not in caplog.text


def test_a_report_from_an_ordinary_sender_marks_nothing(app, members, mailbox, bounce_receiver):
    """The token is unforgeable but not secret (her Return-Path shows it): a "report" handed in
    from an ordinary address is not a bounce; every real one comes from the null sender
    (RFC 5321 §4.5.5). Found by the review."""
    import smtplib

    from tests.platform.bounce_helpers import alert_by_email, email_row
    from tests.support.bounces import postfix_report

    mailed = alert_by_email(members, mailbox, "reader@member.invictm.test")
    report = postfix_report(envelope=mailed.envelope, recipient=mailed.address, original=mailed.raw)
    with smtplib.SMTP("127.0.0.1", bounce_receiver.address[1], timeout=10) as anyone:
        with pytest.raises(smtplib.SMTPSenderRefused):
            anyone.sendmail("reader@member.invictm.test", [mailed.envelope], report)
    assert email_row(mailed.row_id).status == "sent"


def test_idle_connections_are_not_all_held_and_none_for_long(app, bounce_receiver):
    """The receiver shares its process with the urgent dispatch: a crowd of idle connections
    (no token needed) must not take that process's file handles (found by the review)."""
    import socket
    import time

    from forum.notify import bounces

    assert bounce_receiver.controller.SMTP_kwargs["timeout"] <= 60  # aiosmtpd's default: 300 s
    port = bounce_receiver.address[1]
    held = []
    try:
        for _ in range(60):
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(0.5)
        open_ = 0
        for connection in held:
            connection.settimeout(2)
            try:
                greeting = connection.recv(512)
            except OSError:
                continue
            open_ += greeting.startswith(b"220")
        assert open_ <= bounces.MAX_SESSIONS_PER_PEER, (
            f"{open_} idle sessions held from one address"
        )
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.3)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as relay:  # room again
        assert relay.recv(512).startswith(b"220")
