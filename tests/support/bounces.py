"""Bounce reports in the shapes real relays write them, and delivering one as a relay does.

Postfix's and Exim's reports are written out line by line as those servers send them (RFC 3464
multipart/report; the diagnostic quotes the recipient's address, as theirs do), so the receiver
is tested against what an operator's relay will really send back, not against a tidy model.
"""

from __future__ import annotations

import smtplib
from email.parser import BytesHeaderParser

# What a remote server says about a missing mailbox; it must never reach the database or logs.
DIAGNOSTIC = "Recipient address rejected: User unknown in virtual mailbox table zq7-canary"
POSTFIX_BOUNDARY = "4R2x1Y3kLmz9sWQ.1764819612/relay.invictm.test"
EXIM_BOUNDARY = "1764819612-eximdsn-1804289383"
GMAIL_BOUNDARY = "000000000000a1b2c3d4e5f60718"


def original_headers(raw: bytes) -> str:
    """The header block of a message as the relay keeps it (text/rfc822-headers)."""
    headers = BytesHeaderParser().parsebytes(raw)
    return "".join(f"{name}: {value}\n" for name, value in headers.items())


def postfix_report(
    *,
    envelope: str,
    recipient: str,
    original: bytes,
    action: str = "failed",
    status: str = "5.1.1",
    sender_in_body: str | None = None,
) -> bytes:
    """A Postfix 3 non-delivery (or, with action="delayed", delay) report, as bounce(8) writes it."""
    sender = sender_in_body or envelope
    if action == "delayed":
        subject = "Delayed Mail (still being retried)"
        summary = (
            "This is the mail system at host relay.invictm.test.\n\n"
            "####################################################################\n"
            "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n"
            "####################################################################\n\n"
            "Your message could not be delivered for more than 4 hour(s).\n"
            "It will be retried until it is 5 day(s) old.\n"
        )
        extra = "Will-Retry-Until: Wed,  9 Dec 2026 03:40:10 +0000 (UTC)\n"
    else:
        subject = "Undelivered Mail Returned to Sender"
        summary = (
            "This is the mail system at host relay.invictm.test.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients. It's attached below.\n\n"
            "For further assistance, please send mail to postmaster.\n\n"
            "If you do so, please include this problem report. You can\n"
            "delete your own text from the attached returned message.\n\n"
            "                   The mail system\n\n"
            f"<{recipient}>: host mx.member.invictm.test[127.0.0.9] said: 550 {status}\n"
            f"    <{recipient}>: {DIAGNOSTIC} (in reply to RCPT TO command)\n"
        )
        extra = ""
    text = (
        f"Return-Path: <>\n"
        f"Received: by relay.invictm.test (Postfix)\n"
        f"\tid 4R2x1Y3kLmz9sWQ; Fri,  4 Dec 2026 03:40:12 +0000 (UTC)\n"
        f"Date: Fri,  4 Dec 2026 03:40:12 +0000 (UTC)\n"
        f"From: MAILER-DAEMON@relay.invictm.test (Mail Delivery System)\n"
        f"Subject: {subject}\n"
        f"To: {envelope}\n"
        f"Auto-Submitted: auto-replied\n"
        f"MIME-Version: 1.0\n"
        f"Content-Type: multipart/report; report-type=delivery-status;\n"
        f'\tboundary="{POSTFIX_BOUNDARY}"\n'
        f"Content-Transfer-Encoding: 8bit\n"
        f"Message-Id: <20261204034012.4R2x1Y3kLmz9sWQ@relay.invictm.test>\n"
        f"\n"
        f"This is a MIME-encapsulated message.\n"
        f"\n"
        f"--{POSTFIX_BOUNDARY}\n"
        f"Content-Description: Notification\n"
        f"Content-Type: text/plain; charset=us-ascii\n"
        f"\n"
        f"{summary}"
        f"\n"
        f"--{POSTFIX_BOUNDARY}\n"
        f"Content-Description: Delivery report\n"
        f"Content-Type: message/delivery-status\n"
        f"\n"
        f"Reporting-MTA: dns; relay.invictm.test\n"
        f"X-Postfix-Queue-ID: 4R2x1Y3kLmz9sWQ\n"
        f"X-Postfix-Sender: rfc822; {sender}\n"
        f"Arrival-Date: Fri,  4 Dec 2026 03:40:10 +0000 (UTC)\n"
        f"\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        f"Original-Recipient: rfc822;{recipient}\n"
        f"Action: {action}\n"
        f"Status: {status}\n"
        f"Remote-MTA: dns; mx.member.invictm.test\n"
        f"Diagnostic-Code: smtp; 550 {status} <{recipient}>:\n"
        f"    {DIAGNOSTIC}\n"
        f"{extra}"
        f"\n"
        f"--{POSTFIX_BOUNDARY}\n"
        f"Content-Description: Undelivered Message Headers\n"
        f"Content-Type: text/rfc822-headers\n"
        f"Content-Transfer-Encoding: 8bit\n"
        f"\n"
        f"Return-Path: <{sender}>\n"
        f"{original_headers(original)}"
        f"\n"
        f"--{POSTFIX_BOUNDARY}--\n"
    )
    return text.replace("\n", "\r\n").encode("utf-8")


def exim_report(*, envelope: str, recipient: str, original: bytes) -> bytes:
    """An Exim 4 non-delivery report, as it writes one: the whole message returned."""
    head = (
        f"Return-path: <>\n"
        f"Received: from Debian-exim by relay.invictm.test with local (Exim 4.96)\n"
        f"\tid 1tIq4V-000Abc-2Z\n"
        f"\tfor {envelope};\n"
        f"\tFri, 04 Dec 2026 03:40:12 +0000\n"
        f"X-Failed-Recipients: {recipient}\n"
        f"Auto-Submitted: auto-replied\n"
        f"From: Mail Delivery System <Mailer-Daemon@relay.invictm.test>\n"
        f"To: {envelope}\n"
        f"Content-Type: multipart/report; report-type=delivery-status; boundary={EXIM_BOUNDARY}\n"
        f"MIME-Version: 1.0\n"
        f"Subject: Mail delivery failed: returning message to sender\n"
        f"Message-Id: <E1tIq4V-000Abc-2Z@relay.invictm.test>\n"
        f"Date: Fri, 04 Dec 2026 03:40:12 +0000\n"
        f"\n"
        f"--{EXIM_BOUNDARY}\n"
        f"Content-type: text/plain; charset=us-ascii\n"
        f"\n"
        f"This message was created automatically by mail delivery software.\n"
        f"\n"
        f"A message that you sent could not be delivered to one or more of its\n"
        f"recipients. This is a permanent error. The following address(es) failed:\n"
        f"\n"
        f"  {recipient}\n"
        f"    host mx.member.invictm.test [127.0.0.9]\n"
        f"    SMTP error from remote mail server after RCPT TO:<{recipient}>:\n"
        f"    550 5.2.1 {DIAGNOSTIC}\n"
        f"\n"
        f"--{EXIM_BOUNDARY}\n"
        f"Content-type: message/delivery-status\n"
        f"\n"
        f"Reporting-MTA: dns; relay.invictm.test\n"
        f"\n"
        f"Action: failed\n"
        f"Final-Recipient: rfc822;{recipient}\n"
        f"Status: 5.0.0\n"
        f"Remote-MTA: dns; mx.member.invictm.test\n"
        f"Diagnostic-Code: smtp; 550 5.2.1 {DIAGNOSTIC}\n"
        f"\n"
        f"--{EXIM_BOUNDARY}\n"
        f"Content-type: message/rfc822\n"
        f"\n"
    ).replace("\n", "\r\n")
    body = original.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    tail = f"\r\n--{EXIM_BOUNDARY}--\r\n"
    return head.encode("utf-8") + body + tail.encode("utf-8")


def gmail_report(*, envelope: str, recipient: str, original: bytes) -> bytes:
    """A Gmail non-delivery report: report-type after the boundary, the notice itself a
    multipart/related (plain and HTML), per-recipient fields with Last-Attempt-Date."""
    related, alternative = f"{GMAIL_BOUNDARY}r", f"{GMAIL_BOUNDARY}a"
    text = (
        f"Delivered-To: {envelope}\n"
        f"Return-Path: <>\n"
        f"From: Mail Delivery Subsystem <mailer-daemon@googlemail.invictm.test>\n"
        f"To: {envelope}\n"
        f"Auto-Submitted: auto-replied\n"
        f"Subject: Delivery Status Notification (Failure)\n"
        f"Message-ID: <6750c1a2.050a0220.1b2c3d.0000.GMR@mx.google.invictm.test>\n"
        f"Date: Fri, 04 Dec 2026 03:40:12 -0800 (PST)\n"
        f"MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; boundary="{GMAIL_BOUNDARY}"; '
        f"report-type=delivery-status\n"
        f"\n"
        f"--{GMAIL_BOUNDARY}\n"
        f'Content-Type: multipart/related; boundary="{related}"\n'
        f"\n"
        f"--{related}\n"
        f'Content-Type: multipart/alternative; boundary="{alternative}"\n'
        f"\n"
        f"--{alternative}\n"
        f'Content-Type: text/plain; charset="UTF-8"\n'
        f"\n"
        f"** Address not found **\n\n"
        f"Your message wasn't delivered to {recipient} because the address couldn't be\n"
        f"found, or is unable to receive mail.\n\n"
        f"The response was:\n\n550 5.1.1 {DIAGNOSTIC}\n"
        f"\n"
        f"--{alternative}\n"
        f'Content-Type: text/html; charset="UTF-8"\n'
        f"\n"
        f"<html><body><h2>Address not found</h2><p>Your message wasn't delivered to "
        f"<b>{recipient}</b>.</p><p>{DIAGNOSTIC}</p></body></html>\n"
        f"\n"
        f"--{alternative}--\n"
        f"--{related}--\n"
        f"--{GMAIL_BOUNDARY}\n"
        f"Content-Type: message/delivery-status\n"
        f"\n"
        f"Reporting-MTA: dns; googlemail.invictm.test\n"
        f"Received-From-MTA: dns; relay.invictm.test\n"
        f"Arrival-Date: Fri, 04 Dec 2026 03:40:10 -0800 (PST)\n"
        f"\n"
        f"Final-Recipient: rfc822; {recipient}\n"
        f"Action: failed\n"
        f"Status: 5.1.1\n"
        f"Remote-MTA: dns; mx.member.invictm.test. (127.0.0.9, the server for the domain.)\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 {DIAGNOSTIC}\n"
        f"Last-Attempt-Date: Fri, 04 Dec 2026 03:40:12 -0800 (PST)\n"
        f"\n"
        f"--{GMAIL_BOUNDARY}\n"
        f"Content-Type: text/rfc822-headers\n"
        f"\n"
        f"{original_headers(original)}"
        f"\n"
        f"--{GMAIL_BOUNDARY}--\n"
    )
    return text.replace("\n", "\r\n").encode("utf-8")


def out_of_office(*, envelope: str, recipient: str) -> bytes:
    """An auto-reply to the envelope sender: not a report; it must change nothing."""
    text = (
        f"From: Member <{recipient}>\n"
        f"To: {envelope}\n"
        f"Subject: Out of office: back on Monday\n"
        f"Auto-Submitted: auto-replied\n"
        f"Content-Type: text/plain; charset=utf-8\n"
        f"\n"
        f"I am away until Monday without access to e-mail. {DIAGNOSTIC}\n"
    )
    return text.replace("\n", "\r\n").encode("utf-8")


def deliver(port: int, envelope: str, content: bytes) -> None:
    """Act as the relay: hand the report to the bounce receiver, from the null sender."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as relay:
        relay.sendmail("<>", [envelope], content)
