"""Fan-out of an urgent alert to 1,000 and 10,000 members, on loopback.

Figures (each against a baseline measured in the same run):
1. raise request -> every in-app row committed, vs a bare write of what a raise writes (per
   member a recipient row, a sealed notification row and an outbox row, three executemany
   and one commit) into scratch tables of the same database (goal: < 1 s for 1,000),
   for the first raise of the process and, apart, the warm median of the next raises
   (interleaved with the baseline; goal issue 14: < 100 ms for 1,000);
2. raise request -> every e-mail accepted by a local aiosmtpd server through the real dispatch
   path (outbox.committed -> the ops helper's UrgentDispatch), vs a bare smtplib loop sending the
   same number of messages over 4 reused connections in 4 threads (goal: within 1.5x).

Bounded: at most ~2 minutes; the embedded default (SQLite in WAL mode).
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench._common import drill_form, free_port, prepare_instance, session_cookie  # noqa: E402
from bench.figures import figure  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.notify.urgent import UrgentDispatch  # noqa: E402
from tests.alerts.bulk import bulk_members  # noqa: E402

SIZES = (1_000, 10_000)
WARM_ROUNDS = 7
MAIL_WAIT_SECONDS = 300


class Counting:
    """An SMTP handler that only counts accepted messages."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.target = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        with self.lock:
            self.count += 1
            if self.target and self.count >= self.target:
                self.done.set()
        await asyncio.sleep(0)
        return "250 OK"

    def expect(self, n: int) -> None:
        with self.lock:
            self.count = 0
            self.target = n
            self.done.clear()


def baseline_smtplib(port: int, n: int, handler: Counting) -> float:
    """Seconds for a bare smtplib loop: n messages over 4 reused connections in 4 threads."""
    handler.expect(n)
    per_thread = [n // 4 + (1 if i < n % 4 else 0) for i in range(4)]

    def run(count: int, worker: int) -> None:
        client = smtplib.SMTP("127.0.0.1", port, timeout=30)
        try:
            for i in range(count):
                message = EmailMessage()
                message["From"] = "exchange@invictm.test"
                message["To"] = f"baseline{worker}-{i}@example.org"
                message["Subject"] = "Urgent alert raised by the network — sign in to read it"
                message["Message-ID"] = f"<b{worker}-{i}@invictm-exchange>"
                message.set_content(
                    "An urgent alert has been raised in the INVICTM Exchange.\n\n"
                    "Sign in to read it: http://127.0.0.1:8080/alerts/0123456789abcdef\n"
                )
                client.send_message(message)
        finally:
            client.quit()

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c, w)) for w, c in enumerate(per_thread)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=MAIL_WAIT_SECONDS)
    return time.perf_counter() - started


def baseline_insert(app, n: int) -> float:  # noqa: ANN001
    """Seconds for what a raise writes, bare: per member a recipient row, a notification row
    whose text is sealed with AES-256-GCM, an e-mail outbox row and a push-free row count, each
    table one executemany, then one commit (no ORM, no policy, no preferences)."""
    tables = {
        "bench_recipients": "alert VARCHAR(32), member VARCHAR(32), reason VARCHAR(20)",
        "bench_notifications": "id VARCHAR(32) PRIMARY KEY, member VARCHAR(32), text BLOB",
        "bench_outbox": "id VARCHAR(32) PRIMARY KEY, member VARCHAR(32), subject TEXT",
    }
    key = AESGCM(AESGCM.generate_key(bit_length=256))
    alert_id = os.urandom(16).hex()
    members = [os.urandom(16).hex() for _ in range(n)]
    with app.app_context():
        for name, columns in tables.items():
            db.session.execute(text(f"CREATE TABLE {name} ({columns})"))
        db.session.commit()
        started = time.perf_counter()
        db.session.execute(
            text("INSERT INTO bench_recipients VALUES (:a, :m, 'audience')"),
            [{"a": alert_id, "m": m} for m in members],
        )
        rows = []
        for m in members:
            row_id, nonce = os.urandom(16).hex(), os.urandom(12)
            sealed = nonce + key.encrypt(nonce, b"Urgent alert (critical): drill", row_id.encode())
            rows.append({"i": row_id, "m": m, "t": sealed})
        db.session.execute(text("INSERT INTO bench_notifications VALUES (:i, :m, :t)"), rows)
        db.session.execute(
            text("INSERT INTO bench_outbox VALUES (:i, :m, 'Urgent alert — open the Exchange')"),
            [{"i": os.urandom(16).hex(), "m": m} for m in members],
        )
        db.session.commit()
        elapsed = time.perf_counter() - started
        for name in tables:
            db.session.execute(text(f"DROP TABLE {name}"))
        db.session.commit()
    return elapsed


def run_size(n: int, smtp_port: int, handler: Counting, *, mail: bool) -> None:
    """Prepare an instance with n members, then measure both figures for it."""
    folder = Path(tempfile.mkdtemp(prefix=f"alerts-fanout-{n}-"))
    instance = prepare_instance(folder, ratelimit_enabled=False)
    with instance.config_path.open("a", encoding="utf-8") as config:
        config.write(f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\n')
        config.write("[limits]\nalerts_per_hour = 0\n")  # the warm raises come from one member
    app = instance.app()
    password_hash = hash_password("bench password 0123456789")
    with app.app_context():
        raiser = bulk_members(1, password_hash)[0]
        bulk_members(n, password_hash)  # n recipients: the raiser is not asked to answer
        db.session.commit()
        cookie = session_cookie(app, raiser)
    insert_seconds = baseline_insert(app, n)
    smtplib_seconds = baseline_smtplib(smtp_port, n, handler) if mail else 0.0

    client = app.test_client()
    client.set_cookie("exchange_session", cookie.split("=", 1)[1])
    form = drill_form(client)
    dispatcher = UrgentDispatch(app)
    dispatcher.start()
    handler.expect(n)
    try:
        started = time.perf_counter()
        response = client.post("/alerts/new", data=form)
        committed = time.perf_counter() - started
        assert response.status_code == 302, response.status_code
        if mail:
            handler.done.wait(MAIL_WAIT_SECONDS)
        mailed = time.perf_counter() - started
        accepted = handler.count
    finally:
        dispatcher.stop()
    figure(
        f"alerts fan-out {n:,}: raise -> in-app rows committed",
        committed,
        f"a bare write of what it writes ({n:,} members)",
        insert_seconds,
        "s",
        goal="< 1 s for 1,000",
        higher_is_better=False,
    )
    if not mail:
        print(f"(e-mail to {n:,} not measured: set ALERTS_BENCH_FULL=1; it takes minutes here)")
    else:
        figure(
            f"alerts fan-out {n:,}: raise -> e-mails accepted ({accepted:,}/{n:,})",
            mailed,
            "bare smtplib, 4 connections x 4 threads",
            smtplib_seconds,
            "s",
            goal="within 1.5x",
            higher_is_better=False,
        )
    # Warm: the same raise again (the process has raised once), dispatch stopped so only the
    # request is measured, interleaved with the bare baseline round by round.
    warm, bare = [], []
    for round_ in range(WARM_ROUNDS):
        bare.append(baseline_insert(app, n))
        started = time.perf_counter()
        response = client.post("/alerts/new", data={**form, "title": f"Benchmark drill {round_}"})
        warm.append(time.perf_counter() - started)
        assert response.status_code == 302, response.status_code
    figure(
        f"alerts fan-out {n:,}: warm raise -> in-app rows committed (median of {WARM_ROUNDS})",
        statistics.median(warm) * 1000,
        f"a bare write of what it writes ({n:,} members), same rounds",
        statistics.median(bare) * 1000,
        "ms",
        goal="< 100 ms for 1,000",
        higher_is_better=False,
    )
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    """Run both sizes against one local SMTP server."""
    handler = Counting()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        full = os.environ.get("ALERTS_BENCH_FULL") == "1"
        for n in SIZES:
            run_size(n, port, handler, mail=full or n <= 1_000)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
