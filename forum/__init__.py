"""INVICTM Exchange: a confidentiality-first exchange for experts who support victims of terrorism."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import event, inspect
from sqlalchemy.exc import DBAPIError

from forum import db as unit_of_work
from forum import drafts, errors, health, i18n, models, notify, pwa, templating  # noqa: F401 - models completes the metadata
from forum.alerts.jobs import jobs as alert_jobs
from forum.alerts.views import bp as alerts_bp
from forum.calls.jobs import jobs as call_jobs
from forum.calls.views import bp as calls_bp
from forum.config import ConfigError, database_url, load_settings
from forum.crypto.envelope import Envelope, ensure_keyring_matches
from forum.crypto.keyring import KeyringError, load_keyring
from forum.extensions import csrf, limiter, login_manager, migrate
from forum.extensions import db as sql  # `forum.db` is the database kit module; keep its name free
from forum.home import bp as home_bp
from forum.members import expired, sessions  # noqa: F401 - expired: the sign-in redirect
from forum.members import services as members_services
from forum.members.jobs import jobs as member_jobs
from forum.members.views import bp as members_bp
from forum.members.views.guards import reauth_required_on_post
from forum.notify.jobs import jobs as notify_jobs
from forum.notify.views import bp as notify_bp
from forum.notify.views.live import bp as live_bp
from forum.scheduling.registry import JobSpec
from forum.security import cookies, headers
from forum.threads import search as thread_search
from forum.threads.jobs import jobs as thread_jobs
from forum.threads.views import bp as threads_bp

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BUSY_SECONDS = 15  # how long a writer waits for SQLite's write lock before the request fails

__all__ = ["ConfigError", "KeyringError", "create_app"]


class Exchange(Flask):
    """Flask, with the request owning its unit of work: a view that answers below 400 is
    committed here, one that answers 400 or above is rolled back; a domain error raised by a
    service is rolled back by its handler (forum.errors). Views never commit."""

    def dispatch_request(self) -> Any:
        """Run the view, then commit or roll back by the answer it gave."""
        response = self.make_response(super().dispatch_request())
        unit_of_work.finish_request(response.status_code)
        return response


def create_app(
    test_config: Mapping[str, Any] | None = None,
    *,
    config_path: str | os.PathLike[str] | None = None,
    check_keyring: bool = True,
) -> Flask:
    """Build the Flask application from settings; starts no thread and no scheduler."""
    settings = load_settings(config_path, overrides=test_config)
    instance = Path(settings["app"]["instance_path"]).resolve()
    app = Exchange(
        __name__,
        instance_path=str(instance),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _configure(app, settings)
    _configure_logging(settings["app"]["log_level"])

    keyring_path = Path(settings["crypto"]["keyring_path"] or instance / "keyring.json")
    app.extensions["exchange.envelope"] = Envelope(load_keyring(keyring_path))
    app.extensions["exchange.keyring_path"] = keyring_path

    sql.init_app(app)
    migrate.init_app(app, sql, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "members.sign_in"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = None  # server-side sessions do this job (members.sessions)

    with app.app_context():
        _configure_engine(app)
    headers.init_app(app)
    cookies.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    i18n.init_app(app)
    _register_blueprints(app)
    _register_jobs(app)
    # The platform reads no feature: what notify needs of members is handed to it here.
    notify.init_app(
        app,
        addresses=members_services.recipient_addresses,
        organisations=members_services.organisation_choices,
        reauth_required_on_post=reauth_required_on_post,
        current_session_ref=_current_session_ref,
    )
    _bind_write_transactions(app)
    _release_sessions_safely(app)
    # Run by a serving process (forum.ops.asgi.create_asgi), never by tests or the CLI.
    app.extensions["exchange.serving_starts"] = [thread_search.warm_in_background]

    if check_keyring:
        with app.app_context():
            try:
                if inspect(sql.engine).has_table("keyring_checks"):
                    ensure_keyring_matches()
                    sql.session.commit()
            except Exception:
                sql.session.remove()
                sql.engine.dispose()
                raise
    return app


def _configure(app: Flask, settings: dict[str, dict[str, Any]]) -> None:
    security = settings["security"]
    app.config.update(
        EXCHANGE=settings,
        SECRET_KEY=settings["app"]["secret_key"],
        SQLALCHEMY_DATABASE_URI=database_url(settings),
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(database_url(settings)),
        # ASVS 5.0 L2: the __Host- prefix over https (Secure, Path=/, no Domain).
        SESSION_COOKIE_NAME=cookies.cookie_name(
            "exchange_session",
            base_url=settings["app"]["base_url"],
            secure=security["cookie_secure"],
        ),
        SESSION_COOKIE_SECURE=security["cookie_secure"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=security["session_absolute_hours"]),
        # The cookie only points at the server session, which keeps idle and absolute time
        # itself: re-signing an unchanged cookie on every response buys nothing.
        SESSION_REFRESH_EACH_REQUEST=False,
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
        # Tokens live as long as the server session: a long post must not expire under its author.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=security["cookie_secure"],
        RATELIMIT_STORAGE_URI=security["ratelimit_storage_uri"],
        RATELIMIT_ENABLED=security["ratelimit_enabled"],
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_STRATEGY="moving-window",
        MAX_CONTENT_LENGTH=settings["uploads"]["max_bytes"] + 256 * 1024,
        PREFERRED_URL_SCHEME="https" if settings["app"]["base_url"].startswith("https") else "http",
    )


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": BUSY_SECONDS, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=getattr(logging, level.upper(), logging.INFO),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def _configure_engine(app: Flask) -> None:
    """SQLite: WAL, secure_delete, foreign keys, and explicit BEGIN so writes can go IMMEDIATE."""
    engine = sql.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.close()

    writers = unit_of_work.WriterQueue(wait_seconds=BUSY_SECONDS)
    app.extensions[unit_of_work.WriterQueue.EXTENSION_KEY] = writers
    writers.install(engine)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock up front: no deadlock on lock upgrade; this
        # process's writers wait for it in a queue (WriterQueue), not in SQLite's busy handler.
        if connection.get_execution_options().get("sqlite_immediate"):
            writers.enter(connection.connection)
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                writers.leave(connection.connection)
                raise
        else:
            connection.exec_driver_sql("BEGIN")


def _release_sessions_safely(app: Flask) -> None:
    """End each request's database session without raising when the database just died.

    Flask-SQLAlchemy's own teardown rolls back on the connection; if the server went away
    mid-request that raises after the friendly page was built, and the WSGI server would answer
    a bare 500. Registered after sql.init_app, this runs first: it invalidates a dead connection
    instead of rolling back on it.
    """

    @app.teardown_appcontext
    def _release(_error: BaseException | None) -> None:
        try:
            sql.session.remove()
        except DBAPIError:
            log.warning("database connection lost while ending a request; invalidated")
            sql.session().invalidate()  # the scoped session does not proxy invalidate()
            sql.session.remove()
        # Session bookkeeping (last seen, timeouts) only now that the request's transaction ended.
        sessions.write_deferred()


def _current_session_ref() -> str | None:
    """This request's MemberSession id (what a device's push subscription is tied to)."""
    row = sessions.current_session()
    return row.id if row is not None else None


def _bind_write_transactions(app: Flask) -> None:
    @app.before_request
    def _immediate_for_writes() -> None:
        if request.method not in SAFE_METHODS:
            unit_of_work.write_lock()


def _register_blueprints(app: Flask) -> None:
    for blueprint in (
        health.bp,
        home_bp,
        members_bp,
        threads_bp,
        calls_bp,
        alerts_bp,
        notify_bp,
        live_bp,
        pwa.bp,
    ):
        app.register_blueprint(blueprint)
    drafts.init_app(app)


def _register_jobs(app: Flask) -> None:
    specs: list[JobSpec] = []
    for provider in (member_jobs, notify_jobs, thread_jobs, call_jobs, alert_jobs):
        specs.extend(provider())
    app.extensions["exchange.jobs"] = specs
