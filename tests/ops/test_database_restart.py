"""The database restarts under load: requests fail cleanly with a friendly page, succeed again
afterwards, and a form submitted while it was down hands the user's text back, never a traceback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask, request
from sqlalchemy import text

from forum import create_app
from forum.crypto.envelope import ensure_keyring_matches
from forum.crypto.keyring import create_keyring
from forum.extensions import db
from tests.ops.pgcluster import PrivateCluster, postgres_bin
from tests.support.app import make_test_config
from tests.support.clients import Browser
from tests.support.members import Members

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        postgres_bin() is None, reason="PostgreSQL server binaries are not installed"
    ),
]

UNSAVED = (
    "Lessons from the night of the attack: the reception centre needed interpreters first.\n" * 3
)


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    server = PrivateCluster()
    server.start()
    yield server
    server.destroy()


@pytest.fixture
def cluster_app(cluster: PrivateCluster, tmp_path: Path) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    create_keyring(instance / "keyring.json")
    config = make_test_config(instance, "sqlite", None)
    config["database"]["url"] = cluster.url
    app = create_app(config, check_keyring=False)
    app.config["TESTING"] = True
    # A stand-in for any feature's form: it writes to the database when posted.
    probe = Blueprint("probe", __name__)

    @probe.post("/probe/save")
    def save() -> str:
        db.session.execute(text("SELECT length(:body)"), {"body": request.form["body"]})
        db.session.commit()
        return "saved"

    app.register_blueprint(probe)
    with app.app_context():
        db.create_all()
        ensure_keyring_matches()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_pages_fail_cleanly_while_the_database_restarts_then_recover(
    cluster: PrivateCluster, cluster_app: Flask
) -> None:
    browsers = [Browser(cluster_app.test_client()) for _ in range(4)]
    with cluster_app.app_context():
        member = Members().make()
        for browser in browsers:
            browser.sign_in_as(member)
    results: list[tuple[float, float, int, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def visitor(browser: Browser) -> None:
        deadline = time.monotonic() + 30
        for _ in range(2_000):  # bounded in count and in time
            if stop.is_set() or time.monotonic() > deadline:
                return
            started = time.monotonic()
            response = browser.get("/")
            with lock:
                results.append(
                    (
                        started,
                        time.monotonic(),
                        response.status_code,
                        response.get_data(as_text=True),
                    )
                )
            time.sleep(0.02)

    visitors = [threading.Thread(target=visitor, args=(b,)) for b in browsers]
    for thread in visitors:
        thread.start()
    time.sleep(1.0)
    cluster.stop("immediate")
    down_at = time.monotonic()  # the server is gone from here …
    time.sleep(2.0)
    back_at = time.monotonic()  # … until here
    cluster.start()
    cluster.wait_up()
    up_at = time.monotonic()
    time.sleep(2.0)
    stop.set()
    for thread in visitors:
        thread.join(timeout=30)

    statuses = {status for _, _, status, _ in results}
    assert statuses <= {200, 503}, f"unexpected statuses {statuses}"
    # Requests wholly inside the outage (a slow machine may finish an earlier one late).
    during = [
        (status, body)
        for began, ended, status, body in results
        if down_at < began and ended < back_at
    ]
    assert during and all(status == 503 for status, _ in during)
    assert all("Temporarily unavailable" in body and "Traceback" not in body for _, body in during)
    after = [status for began, _, status, _ in results if began > up_at + 1.0]
    assert after and set(after) == {200}


def test_a_form_posted_while_the_database_is_down_hands_the_text_back(
    cluster: PrivateCluster, cluster_app: Flask
) -> None:
    browser = Browser(cluster_app.test_client())
    with cluster_app.app_context():
        browser.sign_in_as(Members().make())
    token = browser.csrf_token()
    cluster.stop("immediate")
    response = browser.post("/probe/save", {"body": UNSAVED, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Nothing you wrote is lost" in page
    assert "Lessons from the night of the attack" in page and "Traceback" not in page
    assert 'action="/probe/save"' in page
    cluster.start()
    cluster.wait_up()
    retried = browser.post("/probe/save", {"body": UNSAVED, "csrf_token": token})
    assert retried.status_code == 200 and retried.get_data(as_text=True) == "saved"
