"""Test applications: the database backends, a fresh instance's settings, a PostgreSQL reset."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from forum.extensions import db

PG_URL = os.environ.get("EXCHANGE_TEST_DATABASE_URL", "")


def backends() -> list[Any]:
    """The `backend` fixture's params: SQLite always, PostgreSQL when PG_URL is set."""
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="EXCHANGE_TEST_DATABASE_URL is not set"),
            ],
        ),
    ]


def make_test_config(instance: Path, backend: str, smtp_port: int | None) -> dict[str, Any]:
    """Settings for a test app in a fresh instance folder."""
    database_url = PG_URL if backend == "postgresql" else f"sqlite:///{instance / 'exchange.db'}"
    return {
        "app": {
            "secret_key": secrets.token_urlsafe(48),
            "instance_path": str(instance),
            "base_url": "http://127.0.0.1:5000",
        },
        "database": {"url": database_url},
        "security": {"cookie_secure": False},
        "mail": {
            "smtp_host": "127.0.0.1" if smtp_port else "",
            "smtp_port": smtp_port or 25,
            "from_address": "exchange@invictm.test",
        },
        "scheduler": {"enabled": False},
        # Test receivers listen on loopback: the allow-list is how a deployment trusts one.
        "delivery": {"webhook_allow_hosts": "127.0.0.1"},
    }


def reset_postgres() -> None:
    """Empty the test PostgreSQL database (drop and recreate the public schema)."""
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
