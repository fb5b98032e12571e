"""Alembic environment: the application's engine and its whole metadata (forum.models)."""

from __future__ import annotations

import logging
from typing import Any

from alembic import context
from flask import current_app

import forum.models  # noqa: F401 - imports every model, so the metadata is whole

log = logging.getLogger("alembic.env")
config = context.config
target_db = current_app.extensions["migrate"].db


def _skip_empty_autogenerate(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """`exchange db migrate` with nothing to do writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in schema detected.")


def _render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render the application's own column types as `from forum.x import Type` + `Type()`.

    (`forum.db` cannot be used as a dotted name: the package exports the `db` extension.)
    """
    if kind == "type" and type(obj).__module__.startswith("forum."):
        cls = type(obj)
        autogen_context.imports.add(f"from {cls.__module__} import {cls.__name__}")
        return repr(obj)
    return False


def configure_arguments(dialect_name: str) -> dict[str, Any]:
    """Options shared by migrations and the migration test's comparison."""
    return {
        "target_metadata": target_db.metadata,
        # SQLite cannot ALTER most things: Alembic's batch mode copies the table instead.
        "render_as_batch": dialect_name == "sqlite",
        "compare_type": True,
        "compare_server_default": False,
        "render_item": _render_item,
    }


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`exchange db upgrade --sql`)."""
    url = target_db.engine.url
    context.configure(url=url, literal_binds=True, **configure_arguments(url.get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the application's own engine."""
    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    with target_db.engine.connect() as connection:
        options.update(configure_arguments(connection.dialect.name))
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
