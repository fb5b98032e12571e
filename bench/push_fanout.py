"""Web Push fan-out of an urgent alert to 1,000 devices, on loopback.

Figure (against a baseline measured in the same run): raise request -> every push accepted by a
loopback RFC 8030 push service (tests/support/push_service.py: it verifies each VAPID signature
and decrypts each aes128gcm payload, as the devices would), through the real path (outbox rows
in the raise's transaction, outbox.committed -> UrgentDispatch, the push channel), vs a bare
pywebpush loop sending the same 1,000 messages to the same service from 4 threads over 4
reused connections (requests sessions), VAPID-signed per message as `webpush()` does.
Goal: within 1.5x, and under 2 s.

Bounded: at most ~2 minutes; the embedded default (SQLite in WAL mode).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from py_vapid import Vapid02  # noqa: E402
from pywebpush import webpush  # noqa: E402

from bench._common import prepare_instance, session_cookie  # noqa: E402
from bench.figures import figure  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.notify import preferences, subscriptions  # noqa: E402
from forum.notify.urgent import UrgentDispatch  # noqa: E402
from tests.alerts.bulk import bulk_members  # noqa: E402
from tests.support.push_service import PushService  # noqa: E402

DEVICES = 1_000
WAIT_SECONDS = 120
THREADS = 4


def _wait_for(service: PushService, count: int, started: float) -> float:
    deadline = started + WAIT_SECONDS
    while len(service.received) < count and time.perf_counter() < deadline:
        time.sleep(0.001)
    return time.perf_counter() - started


def baseline(service: PushService, key: Vapid02, n: int) -> float:
    """Seconds for a bare pywebpush loop: n messages, 4 threads, a requests session each."""
    devices = [service.device() for _ in range(n)]
    service.received.clear()
    body = json.dumps(
        {
            "v": 1,
            "title": "INVICTM Exchange",
            "body": "Urgent alert — open the Exchange",
            "url": "/alerts/0123456789abcdef",
            "tag": "t",
            "kind": "alert.raised",
            "urgent": True,
            "answerable": True,
        }
    )

    def run(share: list) -> None:  # type: ignore[type-arg]
        with requests.Session() as session:
            for device in share:
                webpush(
                    device.subscription(),
                    data=body,
                    vapid_private_key=key,
                    vapid_claims={"sub": "mailto:exchange@invictm.test"},
                    ttl=600,
                    headers={"Urgency": "high"},
                    requests_session=session,
                    timeout=10,
                )

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(devices[i::THREADS],)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)
    return _wait_for(service, n, started)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="push-fanout-"))
    instance = prepare_instance(folder, ratelimit_enabled=False)
    with instance.config_path.open("a", encoding="utf-8") as config:
        config.write('[push]\nallow_hosts = "127.0.0.1"\n')
    app = instance.app()
    password_hash = hash_password("bench password 0123456789")
    with app.app_context():
        service = PushService(vapid_public_key=subscriptions.vapid_public_key())
        service.start()
        try:
            raiser = bulk_members(1, password_hash)[0]
            recipients = bulk_members(DEVICES, password_hash)
            db.session.commit()
            for member in recipients:
                subscriptions.subscribe(member, service.device().subscription(), session_ref=None)
                preferences.save_choices(member, {"urgent_alerts": "push"})  # push alone
            db.session.commit()
            cookie = session_cookie(app, raiser)
            key = Vapid02(private_key=subscriptions.vapid_private_key())
        except BaseException:
            service.stop()
            raise
    try:
        bare = baseline(service, key, DEVICES)
        service.received.clear()
        client = app.test_client()
        client.set_cookie("exchange_session", cookie.split("=", 1)[1])
        page = client.get("/alerts/new").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        dispatcher = UrgentDispatch(app)
        dispatcher.start()
        try:
            started = time.perf_counter()
            response = client.post(
                "/alerts/new",
                data={
                    "csrf_token": token,
                    "kind": "attack",
                    "severity": "critical",
                    "title": "Benchmark drill",
                    "city": "Brussels",
                    "country": "BE",
                    "occurred_at": "2026-11-28T12:00",
                    "needs": "Nothing: a benchmark",
                },
            )
            assert response.status_code == 302, response.status_code
            pushed = _wait_for(service, DEVICES, started)
        finally:
            dispatcher.stop()
        accepted = len(service.received)
        figure(
            f"push fan-out {DEVICES:,}: raise -> pushes accepted ({accepted:,}/{DEVICES:,})",
            pushed,
            f"bare pywebpush, {THREADS} sessions x {THREADS} threads",
            bare,
            "s",
            goal="within 1.5x, and < 2 s",
            higher_is_better=False,
        )
        if service.refused:
            print(f"refused by the push service: {service.refused[:3]}")
    finally:
        service.stop()
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
