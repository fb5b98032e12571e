"""Migrations are the only way the schema changes: upgrading an empty database to head gives
exactly the models' schema (autogenerate finds nothing to do), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from forum import create_app
from forum.extensions import db
from forum.security import audit
from tests.support.app import make_test_config, reset_postgres


@pytest.fixture
def empty_app(instance: Path, backend: str) -> Iterator[Flask]:
    """The application on an empty database (no create_all)."""
    application = create_app(make_test_config(instance, backend, None), check_keyring=False)
    with application.app_context():
        if backend == "postgresql":
            reset_postgres()
        yield application
        db.session.remove()
        if backend == "postgresql":
            reset_postgres()
        db.engine.dispose()


def _differences() -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
        )
        return list(compare_metadata(context, db.metadata))


def test_upgrade_to_head_then_autogenerate_finds_nothing_to_do(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    differences = _differences()
    assert differences == [], (
        "the models and the migrations disagree; run `python migrations/regenerate.py` "
        f"(before the first release) or `exchange db migrate -m ...`: {differences[:10]}"
    )


def test_upgrade_creates_every_table_of_the_models(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrated_audit_log_refuses_updates_and_deletes(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    event = audit.record("test.event", kind="migration")
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(
            text("UPDATE audit_events SET action = 'tampered' WHERE id = :id"), {"id": event.id}
        )
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": event.id})
    db.session.rollback()


def test_downgrade_to_base_removes_every_table(empty_app: Flask) -> None:
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
