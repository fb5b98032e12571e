"""Delivery throughput: the dispatcher (claim with a lease, open each sealed address, send over one
SMTP connection, record) against bare smtplib sending the same number of messages, and one
reused SMTP connection against a new connection per message — all to a local aiosmtpd server.

Run: python bench/foundation_delivery.py   (about 30 s, loopback only)
"""

from __future__ import annotations

import smtplib
import socket
import statistics
import sys
import tempfile
import time
from email.message import Message
from email.mime.text import MIMEText
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepare_instance  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from figures import figure  # noqa: E402

from forum.crypto import envelope  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members import services as member_services  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.notify.dispatcher import dispatch_due  # noqa: E402
from forum.notify.outbox import notify  # noqa: E402

MESSAGES = 200
ROUNDS = 3
TIME_LIMIT_SECONDS = 90


class Sink:
    """Accepts every message and counts it."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: object, session: object, envelope_: object) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def messages(n: int) -> list[Message]:
    """The same messages, built before timing starts (the baseline only sends)."""
    built = []
    for i in range(n):
        message = MIMEText(
            "Someone replied.\n\nOpen it in the Exchange:\nhttp://127.0.0.1/x\n", "plain", "utf-8"
        )
        message["From"] = "INVICTM Exchange <exchange@localhost>"
        message["To"] = f"member{i}@example.org"
        message["Subject"] = "New reply in a thread you follow"
        message["Message-ID"] = f"<bench-{i}@invictm-exchange>"
        built.append(message)
    return built


def raw_one_connection(port: int, batch: list[Message]) -> float:
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for message in batch:
            client.send_message(message)
    return len(batch) / (time.perf_counter() - start)


def raw_connection_each(port: int, batch: list[Message]) -> float:
    start = time.perf_counter()
    for message in batch:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(message)
    return len(batch) / (time.perf_counter() - start)


def main() -> None:
    began = time.monotonic()
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            instance = prepare_instance(Path(folder) / "instance")
            app = instance.app()
            mail = app.config["EXCHANGE"]["mail"]
            mail.update(smtp_host="127.0.0.1", smtp_port=port)
            app.config["EXCHANGE"]["delivery"]["batch_size"] = MESSAGES
            with app.app_context():
                password_hash = hash_password("bench password 1234")
                members = [
                    member_services.create_member(
                        email=f"member{i}@example.org",
                        name=f"Member {i}",
                        password_hash=password_hash,
                    )
                    for i in range(MESSAGES)
                ]
                db.session.commit()
                batch = messages(MESSAGES)
                dispatcher_rates, one_rates, each_rates = [], [], []
                for round_ in range(ROUNDS):
                    if time.monotonic() - began > TIME_LIMIT_SECONDS:
                        break
                    key = envelope.new_data_key("bench")
                    notify(
                        members,
                        event_key=f"bench:{round_}",
                        kind="thread.reply",
                        text="confidential",
                        key=key,
                        link="/threads/x",
                        email_subject="New reply in a thread you follow",
                        email_body="Someone replied.",
                    )
                    db.session.commit()
                    start = time.perf_counter()
                    sent = dispatch_due(MESSAGES).sent
                    dispatcher_rates.append(sent / (time.perf_counter() - start))
                    one_rates.append(raw_one_connection(port, batch))
                    each_rates.append(raw_connection_each(port, batch))
                db.engine.dispose()
    finally:
        controller.stop()
    dispatcher = statistics.median(dispatcher_rates)
    one = statistics.median(one_rates)
    each = statistics.median(each_rates)
    figure(
        "dispatcher e-mails (lease, open sealed address, build, send, record)",
        dispatcher,
        "bare smtplib sending prebuilt messages, one connection",
        one,
        "msg/s",
    )
    figure(
        "bare smtplib, one connection for the batch", one, "a connection per message", each, "msg/s"
    )


if __name__ == "__main__":
    main()
