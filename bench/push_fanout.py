"""Web Push fan-out of an urgent alert to 1,000 devices, on loopback.

Figure (against a baseline measured in the same run): raise request -> every push accepted by a
loopback RFC 8030 push service (tests/support/push_service.py: it verifies each VAPID signature
and decrypts each aes128gcm payload, as the devices would; it runs in a process of its own,
bench/_push_process.py, as a real push service is another machine), through the real path (outbox rows
in the raise's transaction, outbox.committed -> UrgentDispatch, the push channel), vs a bare
pywebpush loop sending the same 1,000 messages to the same service from 4 threads over 4
reused connections (requests sessions), VAPID-signed per message as `webpush()` does.
Goal: within 1.5x, and under 2 s. Three rounds, the baseline interleaved with the raise; the
medians are the figure and the ranges go with it.

Bounded: at most ~2 minutes a round; the embedded default (SQLite in WAL mode).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from py_vapid import Vapid02  # noqa: E402
from pywebpush import webpush  # noqa: E402

from bench._common import drill_form, prepare_instance, session_cookie  # noqa: E402
from bench._push_process import PushProcess  # noqa: E402
from bench.figures import figure  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.notify import preferences, subscriptions  # noqa: E402
from forum.notify.channels.push import padded  # noqa: E402
from forum.notify.urgent import UrgentDispatch  # noqa: E402
from tests.alerts.bulk import bulk_members  # noqa: E402

DEVICES = 1_000
WAIT_SECONDS = 120
THREADS = 4
ROUNDS = 3
# Padded as the Exchange pads every payload (to 1 KiB: its length says nothing of the
# member's language or the event), so both sides encrypt and send the same bytes.
BODY = padded(
    json.dumps(
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
    ).encode()
)


def baseline(service: PushProcess, key: Vapid02, devices: list[dict]) -> float:  # type: ignore[type-arg]
    """Seconds for a bare pywebpush loop: the messages from 4 threads, a requests session each."""
    service.clear()

    def run(share: list) -> None:  # type: ignore[type-arg]
        with requests.Session() as session:
            for subscription in share:
                webpush(
                    subscription,
                    data=BODY,
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
    seconds = service.wait(len(devices), started, WAIT_SECONDS)
    assert seconds is not None, f"baseline: {service.accepted()} of {len(devices)} accepted"
    return seconds


def raise_once(app: object, client: object, service: PushProcess, n: int) -> float:
    """Seconds from the raise request to the nth push accepted, through the real path."""
    service.clear()
    form = drill_form(client)
    dispatcher = UrgentDispatch(app)
    dispatcher.start()
    try:
        started = time.perf_counter()
        response = client.post("/alerts/new", data=form)  # type: ignore[attr-defined]
        assert response.status_code == 302, response.status_code
        seconds = service.wait(n, started, WAIT_SECONDS)
    finally:
        dispatcher.stop()
    if seconds is None:
        raise SystemExit(
            f"only {service.accepted()} of {n} pushes accepted; refused: {service.refused()}"
        )
    return seconds


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="push-fanout-"))
    instance = prepare_instance(folder, ratelimit_enabled=False)
    with instance.config_path.open("a", encoding="utf-8") as config:
        # the rounds raise one alert each: the per-member hourly limit is off for the bench
        config.write('[push]\nallow_hosts = "127.0.0.1"\n[limits]\nalerts_per_hour = 0\n')
    app = instance.app()
    password_hash = hash_password("bench password 0123456789")
    with app.app_context():
        public_key = subscriptions.vapid_public_key()
    with PushProcess(public_key) as service:
        with app.app_context():
            raiser = bulk_members(1, password_hash)[0]
            recipients = bulk_members(DEVICES, password_hash)
            db.session.commit()
            for member, subscription in zip(recipients, service.devices(DEVICES), strict=True):
                subscriptions.subscribe(member, subscription, session_ref=None)
                preferences.save_choices(member, {"urgent_alerts": "push"})  # push alone
            db.session.commit()
            cookie = session_cookie(app, raiser)
            key = Vapid02(private_key=subscriptions.vapid_private_key())
        bare_devices = service.devices(DEVICES)
        client = app.test_client()
        client.set_cookie("exchange_session", cookie.split("=", 1)[1])
        bare: list[float] = []
        pushed: list[float] = []
        try:
            for _ in range(ROUNDS):  # interleaved, so a busy moment touches both
                bare.append(baseline(service, key, bare_devices))
                pushed.append(raise_once(app, client, service, DEVICES))
        finally:
            with app.app_context():
                db.engine.dispose()
        print(
            "rounds (s): raise "
            + ", ".join(f"{s:.3f}" for s in pushed)
            + " | bare "
            + ", ".join(f"{s:.3f}" for s in bare)
        )
        figure(
            f"push fan-out {DEVICES:,}: raise -> pushes accepted ({DEVICES:,}/{DEVICES:,})",
            statistics.median(pushed),
            f"bare pywebpush, {THREADS} sessions x {THREADS} threads",
            statistics.median(bare),
            "s",
            goal="within 1.5x, and < 2 s",
            higher_is_better=False,
            rounds=ROUNDS,
            range=[min(pushed), max(pushed)],
            baseline_range=[min(bare), max(bare)],
        )


if __name__ == "__main__":
    main()
