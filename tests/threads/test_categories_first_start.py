"""A fresh install has the default categories, once, and a coordinator can rename and remove them.

These tests start from an empty instance folder the way `exchange init` does
(forum.ops.instance.prepare_instance), not from the suite's fixtures.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from forum.extensions import db
from forum.ops.instance import prepare_instance
from forum.threads import categories
from forum.threads.models import Category
from tests.support.app import PG_URL
from tests.support.clients import Browser
from tests.support.members import Members


@pytest.fixture
def fresh(tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty instance folder and the environment `exchange init` would read."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("EXCHANGE_APP_INSTANCE_PATH", str(folder))
    monkeypatch.setenv("EXCHANGE_SECURITY_COOKIE_SECURE", "false")
    monkeypatch.setenv("EXCHANGE_SCHEDULER_ENABLED", "false")
    monkeypatch.delenv("EXCHANGE_CONFIG", raising=False)
    if backend == "postgresql":
        monkeypatch.setenv("EXCHANGE_DATABASE_URL", PG_URL)
    yield folder
    for app in _STARTED:  # each start built its own app and engine: close their connections
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    _STARTED.clear()
    if backend == "postgresql":
        _drop_schema()


def _drop_schema() -> None:
    from sqlalchemy import create_engine

    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


_STARTED: list[Flask] = []


def _start(fresh: Path) -> Flask:
    app = prepare_instance(None).app
    app.config["TESTING"] = True
    _STARTED.append(app)
    return app


def _slugs() -> list[str]:
    return [c.slug for c in categories.list_categories()]


def test_fresh_install_starts_a_thread_in_a_default_category(fresh: Path, backend: str) -> None:
    if backend == "postgresql":
        _drop_schema()
    app = _start(fresh)
    with app.app_context():
        coordinator = Members().coordinator()
        browser = Browser(app.test_client()).sign_in_as(coordinator)
        listed = browser.get("/threads/categories").get_data(as_text=True)
        assert "No categories yet" not in listed
        assert "Lessons learned" in listed and "Network business" in listed
        assert browser.get("/threads/c/lessons-learned").status_code == 200
        lessons = categories.category_by_slug("lessons-learned")
        assert lessons is not None
        form = browser.get("/threads/new").get_data(as_text=True)
        assert f'value="{lessons.id}"' in form
        response = browser.post(
            "/threads/new",
            {
                "title": "First lessons",
                "category": lessons.id,
                "label": "AMBER",
                "body": "What we learned in the first week.",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        page = browser.get("/threads/c/lessons-learned").get_data(as_text=True)
        assert "First lessons" in page
        db.session.remove()


def test_defaults_exist_once_after_restarts_and_concurrent_seeding(
    fresh: Path, backend: str
) -> None:
    if backend == "postgresql":
        _drop_schema()
    app = _start(fresh)
    _start(fresh)  # a second `exchange init` / `serve` changes nothing
    with app.app_context():
        db.session.execute(text("DELETE FROM thread_categories"))
        db.session.commit()
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def seed() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                categories.ensure_default_categories()
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=seed) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not errors
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Category)) == 5
        assert len(set(_slugs())) == 5
        db.session.remove()


def test_coordinator_renames_and_removes_a_default_and_it_stays_removed(
    fresh: Path, backend: str
) -> None:
    if backend == "postgresql":
        _drop_schema()
    app = _start(fresh)
    with app.app_context():
        coordinator = Members().coordinator()
        member = Members().make()
        browser = Browser(app.test_client()).sign_in_as(coordinator)
        symposium = categories.category_by_slug("symposium")
        business = categories.category_by_slug("network-business")
        assert symposium is not None and business is not None
        symposium_id, business_id = symposium.id, business.id
        edit = f"/threads/categories/{symposium_id}/edit"
        renamed = browser.post(edit, {"name": "Annual symposium", "description": "Brussels"})
        assert renamed.status_code == 302
        assert "Annual symposium" in browser.get("/threads/categories").get_data(as_text=True)
        assert browser.get("/threads/c/symposium").status_code == 200  # the address stays
        duplicate = browser.post(edit, {"name": "good practice", "description": ""})
        assert duplicate.status_code == 422
        assert "already exists" in duplicate.get_data(as_text=True)

        # A category with threads is refused in words; its threads stay where they are.
        used = browser.post(
            "/threads/new",
            {"title": "Minutes", "category": business_id, "label": "AMBER", "body": "Notes."},
        )
        assert used.status_code == 302
        refused = browser.post(f"/threads/categories/{business_id}/remove")
        assert refused.status_code == 409
        assert "still holds 1 thread: move them" in refused.get_data(as_text=True)
        assert db.session.get(Category, business_id) is not None

        removed = browser.post(f"/threads/categories/{symposium_id}/remove")
        assert removed.status_code == 302
        assert browser.get("/threads/c/symposium").status_code == 404

        members_browser = Browser(app.test_client()).sign_in_as(member)
        assert members_browser.post(f"/threads/categories/{business_id}/remove").status_code == 403
        assert members_browser.get(f"/threads/categories/{business_id}/edit").status_code == 403
        db.session.remove()
    _start(fresh)  # a restart does not bring the removed default back
    with app.app_context():
        assert "symposium" not in _slugs() and len(_slugs()) == 4
        db.session.remove()
