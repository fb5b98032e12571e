"""Friendly error pages: every error a person can meet is a plain page of the layout with the
security headers — never a traceback — and an unreachable database is a friendly 503."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Blueprint, Flask, abort
from sqlalchemy import text

from forum import create_app
from forum.crypto.keyring import create_keyring
from forum.errors import MESSAGES
from forum.extensions import db, limiter
from forum.members.sessions import SESSION_KEY
from tests.support.app import make_test_config
from tests.support.clients import Browser
from tests.support.net import free_port
from tests.web.sweep import in_own_context

CANARY = "internal-detail-7f3e9c-must-stay-in-the-log"
TRACEBACK_MARKS = ("Traceback", 'File "', "RuntimeError", "werkzeug", "sqlalchemy", CANARY)


def _trouble_blueprint() -> Blueprint:
    """Routes that fail on purpose, registered on a fresh app only in these tests."""
    bp = Blueprint("trouble", __name__, url_prefix="/__trouble__")

    @bp.get("/crash")
    def crash() -> str:
        raise RuntimeError(CANARY)

    @bp.get("/forbidden")
    def forbidden() -> str:
        abort(403)

    @bp.get("/bad")
    def bad() -> str:
        abort(400)

    @bp.get("/limited")
    @limiter.limit("1/minute")
    def limited() -> str:
        return "once"

    @bp.post("/form")
    def form() -> str:
        return "accepted"

    @bp.get("/query")
    def query() -> str:
        return str(db.session.execute(text("SELECT 1")).scalar())

    return bp


@pytest.fixture
def trouble(app: Flask) -> Browser:
    app.register_blueprint(_trouble_blueprint())
    return Browser(app.test_client())


def assert_friendly(response: object, status: int) -> str:
    """The response is the friendly page for this status: layout, plain words, no internals."""
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.mimetype == "text/html"  # type: ignore[attr-defined]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")  # type: ignore[attr-defined]
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    title = str(MESSAGES[status][0])
    assert f"<h1>{title}</h1>" in page
    assert 'class="topbar"' in page
    for mark in TRACEBACK_MARKS:
        assert mark not in page, f"the {status} page shows {mark!r}"
    return page


def test_an_unknown_address_gets_the_friendly_not_found_page(trouble: Browser) -> None:
    assert_friendly(trouble.get("/no/such/page"), 404)


def test_a_bad_request_gets_the_friendly_400_page(trouble: Browser) -> None:
    assert_friendly(trouble.get("/__trouble__/bad"), 400)


def test_a_form_without_its_csrf_token_gets_the_friendly_expired_form_page(
    trouble: Browser,
) -> None:
    page = assert_friendly(trouble.client.post("/__trouble__/form", data={"x": "1"}), 400)
    assert "This form has expired" in page
    assert trouble.post("/__trouble__/form", data={"x": "1"}).get_data(as_text=True) == "accepted"


def test_a_forbidden_action_gets_the_friendly_403_page(trouble: Browser) -> None:
    assert_friendly(trouble.get("/__trouble__/forbidden"), 403)


def test_a_wrong_method_gets_the_friendly_405_page_that_says_what_is_allowed(
    trouble: Browser,
) -> None:
    response = trouble.client.delete("/__trouble__/forbidden")
    assert_friendly(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


def test_too_many_attempts_get_the_friendly_429_page_that_says_when_to_retry(
    trouble: Browser,
) -> None:
    assert trouble.get("/__trouble__/limited").status_code == 200
    response = trouble.get("/__trouble__/limited")
    assert_friendly(response, 429)
    assert int(response.headers["Retry-After"]) > 0


def test_an_upload_too_large_gets_the_friendly_413_page(app: Flask, trouble: Browser) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = trouble.client.post("/__trouble__/form", data={"x": "y" * 10_000})
    assert_friendly(response, 413)


def test_a_crash_gets_the_friendly_500_page_and_the_traceback_goes_to_the_log(
    trouble: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    assert_friendly(trouble.get("/__trouble__/crash"), 500)
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and CANARY in str(logged[0].exc_info[1])  # type: ignore[index]


def test_the_app_keeps_working_after_a_crash(app: Flask, trouble: Browser) -> None:
    assert trouble.get("/__trouble__/crash").status_code == 500
    assert in_own_context(app, trouble.get, "/__trouble__/query").get_data(as_text=True) == "1"


def _app_without_database(tmp_path: Path, url: str) -> Flask:
    instance = tmp_path / "instance"
    instance.mkdir()
    create_keyring(instance / "keyring.json")
    config = make_test_config(instance, "sqlite", None)
    config["database"]["url"] = url
    application = create_app(config, check_keyring=False)
    application.register_blueprint(_trouble_blueprint())
    return application


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_unreachable_database_gets_the_friendly_503_page(
    tmp_path: Path, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = {
        # A file in a folder that does not exist cannot be opened.
        "sqlite": f"sqlite:///{tmp_path / 'gone' / 'exchange.db'}",
        # Nothing listens on this loopback port.
        "postgresql": f"postgresql://postgres@127.0.0.1:{free_port()}/exchange",
    }[database]
    application = _app_without_database(tmp_path, url)
    client = application.test_client()
    for path in ("/__trouble__/query", "/"):
        with client.session_transaction() as session:
            session[SESSION_KEY] = "a-session-the-server-must-look-up"  # noqa: S105
        response = client.get(path)
        assert response.status_code == 503, path
        page = response.get_data(as_text=True)
        assert str(MESSAGES[503][0]) in page
        for mark in TRACEBACK_MARKS:
            assert mark not in page
    with application.app_context():
        db.engine.dispose()
