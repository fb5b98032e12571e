"""Nothing an alert says leaves the sealed columns: not in mail, webhooks, the database or logs."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import text

from forum.alerts import coordination, services
from forum.extensions import db
from forum.notify.channels.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from forum.notify.dispatcher import dispatch_due
from forum.notify.webhooks import register_endpoint
from tests.support.alerts import CANARY, raise_alert


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback that keeps what it got."""

    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def _database_bytes(instance: Path) -> bytes:
    return b"".join(p.read_bytes() for p in instance.glob("exchange.db*"))


def test_canary_in_an_alert_never_appears_in_clear_anywhere(
    app, members, mailbox, instance, caplog
):
    caplog.set_level(logging.DEBUG)
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        coordinator = members.coordinator()
        raiser = members.make()
        helper = members.make()
        _, secret = register_endpoint(
            coordinator, coordinator.organisation, f"http://127.0.0.1:{server.server_port}/hook"
        )
        db.session.commit()
        alert = raise_alert(raiser, city=f"{CANARY}-city")
        services.answer_alert(helper, alert.id, "can_help", note=f"{CANARY} note")
        services.post_update(raiser, alert.id, f"{CANARY} update", status="coordinating")
        coordination.resolve(raiser, alert.id, f"{CANARY} closing")
        coordination.save_review(raiser, alert.id, {"lessons": f"{CANARY} lesson"})
        db.session.commit()
        for _ in range(5):
            if not dispatch_due().claimed:
                break
    finally:
        server.shutdown()
        server.server_close()

    assert len(mailbox.messages) >= 3
    assert all(CANARY.encode() not in raw for raw in mailbox.raw)
    assert all(
        f"/alerts/{alert.id}" in m.get_body().get_content()
        for m in mailbox.messages
        if "alert" in str(m["Subject"]).lower()
    )

    assert len(Receiver.received) == 1
    headers, body = Receiver.received[0]
    assert CANARY.encode() not in body
    document = json.loads(body)
    assert alert.id in document["subject"] and "severity=critical" in document["subject"]
    assert document["link"].endswith(f"/alerts/{alert.id}")
    assert verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])

    assert CANARY not in caplog.text
    if db.engine.dialect.name == "sqlite":
        db.session.commit()
        assert CANARY.encode() not in _database_bytes(instance)
    else:
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(text(f"SELECT * FROM {table.name}")).all()  # noqa: S608
            assert CANARY not in repr(rows)
