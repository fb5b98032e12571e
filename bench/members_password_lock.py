"""Issue 9 item 8: four parallel password-change attempts must not hold another member's write.
The Argon2id checks run outside SQLite's write lock now; this measures a bystander's write
(POST /account/sessions/end-others) with no attack, under four attackers, and under four
attackers with the old behaviour emulated in the same run (the hash inside BEGIN IMMEDIATE).
Rate limiting is off here, so every attempt reaches the hash (the limit is tested separately).

Run: python bench/members_password_lock.py   (about 20 s; in-process; stops what it starts)
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib  # noqa: E402

from figures import figure  # noqa: E402

from forum import create_app  # noqa: E402
from forum.crypto.envelope import ensure_keyring_matches  # noqa: E402
from forum.crypto.keyring import create_keyring  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members import account, services  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.members.sessions import SESSION_KEY, start_session  # noqa: E402

ATTACKERS = 4
WRITES = 25
ATTACK_SECONDS = 6.0


def _app(folder: Path):  # noqa: ANN202 - a Flask app
    create_keyring(folder / "keyring.json")
    config = {
        "app": {"secret_key": secrets.token_urlsafe(48), "instance_path": str(folder)},
        "security": {"cookie_secure": False, "ratelimit_enabled": False},
        "scheduler": {"enabled": False},
    }
    app = create_app(config, check_keyring=False)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    with app.app_context():
        db.create_all()
        ensure_keyring_matches()
        db.session.commit()
    return app


def _clients(app, count: int) -> list:  # noqa: ANN001
    shared = hash_password("correct horse battery staple 42")
    made = []
    with app.app_context():
        org = services.get_or_create_organisation("Bench", country="BE", sector="ngo")
        for n in range(count):
            member = services.create_member(
                email=f"bench{n}@example.org",
                name=f"Bench {n}",
                role="member",
                password_hash=shared,
                organisation=org,
                country="BE",
                timezone="Europe/Brussels",
            )
            token = start_session(member)
            db.session.commit()
            client = app.test_client()
            with client.session_transaction() as session:
                session[SESSION_KEY] = token
            made.append(client)
    return made


def _bystander(client) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(WRITES):
        start = time.perf_counter()
        response = client.post("/account/sessions/end-others")
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 302, response.status_code
        with client.session_transaction() as session:  # the flash is never read here
            session.pop("_flashes", None)
        time.sleep(0.02)
    return times


def _attacked(app, clients) -> list[float]:  # noqa: ANN001
    stop = threading.Event()
    deadline = time.monotonic() + ATTACK_SECONDS

    def attack(client) -> None:  # noqa: ANN001
        while not stop.is_set() and time.monotonic() < deadline:
            client.post(
                "/account/password",
                data={"current": "wrong guess", "new": "x" * 20, "confirm": "x" * 20},
            )

    threads = [threading.Thread(target=attack, args=(c,)) for c in clients[1:]]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    try:
        return _bystander(clients[0])
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = _app(Path(folder))
        clients = _clients(app, ATTACKERS + 1)
        quiet = _bystander(clients[0])
        fixed = _attacked(app, clients)
        # The old behaviour, emulated: keep the write lock across the hash.
        saved = account.write_lock_released
        account.write_lock_released = contextlib.nullcontext  # type: ignore[assignment]
        try:
            old = _attacked(app, clients)
        finally:
            account.write_lock_released = saved
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    figure(
        "bystander write p95, 4 parallel password attempts (hash outside the lock)",
        _p95(fixed),
        "no attack",
        _p95(quiet),
        "ms",
        goal="no wait for the write lock (what is left is CPU for the hashes on 2 cores)",
        higher_is_better=False,
    )
    figure(
        "bystander write p95, 4 parallel password attempts (hash under the lock, as before)",
        _p95(old),
        "no attack",
        _p95(quiet),
        "ms",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
