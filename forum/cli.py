"""The `exchange` command: init, serve, worker, invite, keys, backup/restore, and `db` (migrations).

Configuration problems (an unknown key, a missing secret, a weak secret, a missing or
mismatched keyring) stop the command with one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo
from flask_migrate.cli import db as migrate_db_group
from sqlalchemy.exc import OperationalError

from forum import create_app
from forum.config import ConfigError, load_settings
from forum.crypto import envelope
from forum.crypto.keyring import KeyringError
from forum.db import write_lock
from forum.errors import Invalid
from forum.extensions import db
from forum.members.invites import create_invite, invite_link
from forum.members.models import ROLES
from forum.ops import keys as key_ops
from forum.ops.backup import BackupError, restore_backup, write_backup
from forum.ops.heap import settle_heap
from forum.ops.instance import (
    links_base_url,
    prepare_instance,
    record_served_url,
    resolve_config_path,
)
from forum.ops.server import serve as run_server
from forum.scheduling.leader import run_as_leader

CONFIG_ERROR_EXIT = 2


class ExchangeInfo(ScriptInfo):  # type: ignore[misc]
    """Carries --config to every command, and lets Flask-Migrate's commands build the app."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        super().__init__(create_app=self.build, set_debug_flag=False, load_dotenv_defaults=False)

    def build(self, **overrides: Any) -> Flask:
        """The application, from --config / EXCHANGE_CONFIG / the instance's own config."""
        return create_app(overrides or None, config_path=resolve_config_path(self.config_path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="EXCHANGE_CONFIG",
    type=click.Path(dir_okay=False),
    help="The TOML configuration file (default: EXCHANGE_CONFIG, else instance/exchange.toml).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """INVICTM Exchange: run and manage an instance."""
    ctx.obj = ExchangeInfo(config_path)


cli.add_command(migrate_db_group, "db")


def _say_prepared(prepared: Any, coordinator_email: str | None) -> None:
    if prepared.created_config:
        click.echo(f"Wrote {prepared.config_file} with a new secret key (mode 0600).")
    if prepared.created_keyring:
        click.echo(
            f"Created the keyring {prepared.keyring_path} (mode 0600). Back it up apart from "
            "the database: without it nothing sealed can be read."
        )
    click.echo(f"Database ready: {prepared.database}")
    if prepared.setup_link:
        click.echo("")
        click.echo("Set up the first coordinator with this one-time link (it expires):")
        click.echo(f"  {prepared.setup_link}")
        click.echo("")
    elif not prepared.has_coordinator:
        hint = "exchange init --coordinator-email YOU@EXAMPLE.ORG"
        click.echo(
            "There is no coordinator yet. Create the first one with a one-time setup link:\n"
            f"  {hint}\n  (or: exchange invite YOU@EXAMPLE.ORG --role coordinator)"
        )
    elif coordinator_email:
        click.echo("A coordinator exists already; invite more people with `exchange invite`.")


@cli.command()
@click.option(
    "--coordinator-email",
    metavar="ADDRESS",
    help="Print a one-time setup link for the first coordinator, bound to this address.",
)
@click.pass_obj
def init(info: ExchangeInfo, coordinator_email: str | None) -> None:
    """Prepare an instance (config, keyring, database); safe to run again."""
    prepared = prepare_instance(info.config_path, coordinator_email=coordinator_email)
    # (Without app.base_url, the setup link follows the address `exchange serve` recorded.)
    _say_prepared(prepared, coordinator_email)
    with prepared.app.app_context():
        db.engine.dispose()


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: server.host).")
@click.option("--port", default=None, type=int, help="Port to listen on (default: server.port).")
@click.option("--coordinator-email", metavar="ADDRESS", help="As for `exchange init`.")
@click.option(
    "--verbose",
    is_flag=True,
    help="Log at app.log_level (default INFO) on the console; without it, warnings and errors.",
)
@click.pass_obj
def serve(
    info: ExchangeInfo,
    host: str | None,
    port: int | None,
    coordinator_email: str | None,
    verbose: bool,
) -> None:
    """Prepare the instance, then serve it with the scheduler inside (the embedded default)."""
    _quiet_console(verbose)
    prepared = prepare_instance(
        info.config_path, coordinator_email=coordinator_email, serve_at=(host, port)
    )
    settings = prepared.app.config["EXCHANGE"]
    log_level = _console_level(settings["app"]["log_level"], verbose)
    logging.getLogger().setLevel(log_level)
    with prepared.app.app_context():
        db.engine.dispose()  # nothing crosses the fork into the worker
    host = host or settings["server"]["host"]
    port = port or settings["server"]["port"]
    # Links in e-mails follow the address actually served, unless app.base_url says otherwise
    # (prepare_instance made the setup link with it; `exchange invite` reads the record).
    base_url = settings["app"]["base_url"]
    overrides: dict[str, Any] = {}
    if prepared.served_url:
        overrides = {"app": {"base_url": prepared.served_url}}
        record_served_url(prepared.instance, prepared.served_url)
    _say_prepared(prepared, coordinator_email)
    click.echo(
        f"INVICTM Exchange is running at {base_url}  (listening on {host}:{port}; Ctrl+C stops)"
    )
    sys.stdout.flush()
    run_server(lambda: info.build(**overrides), host=host, port=port, log_level=log_level)


def _quiet_console(verbose: bool) -> None:
    """Before anything logs: the console shows warnings and errors unless --verbose."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO if verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def _console_level(configured: str, verbose: bool) -> str:
    level = configured.upper()
    if verbose or logging.getLevelName(level) not in (logging.DEBUG, logging.INFO):
        return level
    return "WARNING"


def _link_overrides(info: ExchangeInfo) -> dict[str, Any]:
    """For commands run beside `exchange serve`: links point where it serves."""
    base = links_base_url(load_settings(resolve_config_path(info.config_path)))
    return {"app": {"base_url": base}} if base else {}


def _say_now(text: str) -> None:
    click.echo(text)
    sys.stdout.flush()


@cli.command()
@click.pass_obj
def worker(info: ExchangeInfo) -> None:
    """Run the scheduler and deliveries (scaled out: one per deployment; extras stand by)."""
    app = info.build()
    settle_heap()  # the worker sends the fan-outs: no full collection over start-up's objects
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"Exchange worker started (pid {os.getpid()}).")
    run_as_leader(app, stop, say=_say_now)
    click.echo("Exchange worker stopped.")


@cli.command()
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--organisation", "organisation_name", default=None, help="Their organisation.")
@click.pass_obj
def invite(info: ExchangeInfo, email: str, role: str, organisation_name: str | None) -> None:
    """Invite someone by e-mail and print the one-time link (the e-mail is sent too).

    Without app.base_url, the link points where `exchange serve` last served this instance."""
    app = info.build(**_link_overrides(info))
    with app.app_context():
        # Beside a running `exchange serve` on SQLite: take the write lock first (waiting on the
        # busy timeout), or a read that turns into a write fails at once if the server committed.
        write_lock()
        try:
            _invite, token = create_invite(email, role=role, organisation_name=organisation_name)
        except Invalid as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(f"Invitation for a {role} created. One-time link (expires):")
        click.echo(f"  {invite_link(token)}")


@cli.group()
def keys() -> None:
    """Key-encryption keys: status, rotation, retirement."""


@keys.command("status")
@click.pass_obj
def keys_status(info: ExchangeInfo) -> None:
    """Show the keyring, its KEKs and how many data keys each wraps."""
    app = info.build()
    with app.app_context():
        state = key_ops.status()
    click.echo(f"Keyring: {state.keyring_source}")
    click.echo(f"Current KEK: {state.current}")
    for kek_id in state.keks:
        marker = " (current)" if kek_id == state.current else ""
        click.echo(f"  {kek_id}{marker}: {state.data_keys.get(kek_id, 0)} data keys")
    strays = set(state.data_keys) - set(state.keks)
    for kek_id in sorted(strays):
        click.echo(f"  {kek_id} (NOT IN KEYRING): {state.data_keys[kek_id]} data keys")
    if state.retired:
        click.echo("Retired: " + ", ".join(state.retired))


@keys.command("rotate")
@click.option("--batch-size", default=500, show_default=True, help="Data keys per commit.")
@click.pass_obj
def keys_rotate(info: ExchangeInfo, batch_size: int) -> None:
    """Add a new KEK, make it current, and rewrap every data key under it."""
    app = info.build()
    with app.app_context():
        kek_id, total = key_ops.rotate(batch_size)
    click.echo(f"New current KEK {kek_id}; {total} data keys rewrapped.")
    click.echo(
        "Restart running Exchange processes so new data keys use it, then retire the old KEK "
        "with `exchange keys retire KEK_ID` once `exchange keys status` shows it wraps nothing."
    )


@keys.command("rewrap")
@click.option("--batch-size", default=500, show_default=True, help="Data keys per commit.")
@click.pass_obj
def keys_rewrap(info: ExchangeInfo, batch_size: int) -> None:
    """Rewrap data keys still under an older KEK (e.g. made by a process started before rotation)."""
    app = info.build()
    with app.app_context():
        total = key_ops.rewrap(batch_size)
    click.echo(f"{total} data keys rewrapped.")


@keys.command("retire")
@click.argument("kek_id")
@click.pass_obj
def keys_retire(info: ExchangeInfo, kek_id: str) -> None:
    """Remove an old KEK from the keyring once no data key uses it."""
    app = info.build()
    with app.app_context():
        try:
            key_ops.retire(kek_id)
        except KeyringError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Retired {kek_id}.")


def _attachments(app: Flask) -> Path:
    configured = app.config["EXCHANGE"]["uploads"]["path"]
    return Path(configured) if configured else Path(app.instance_path) / "attachments"


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(info: ExchangeInfo, path: Path) -> None:
    """Write an encrypted backup of the database and attachments (never the keyring) to PATH."""
    app = info.build()
    with app.app_context():
        try:
            summary = write_backup(db.engine, envelope.keyring(), _attachments(app), path)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        db.engine.dispose()
    click.echo(
        f"Backup written to {summary.path} ({summary.size_bytes:,} bytes, {summary.database}, "
        f"{summary.attachment_files} attachments, sealed for key {summary.kek_id}). "
        "It can only be restored with this instance's keyring: keep that safe, apart from it."
    )


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.pass_obj
def restore(info: ExchangeInfo, path: Path) -> None:
    """Restore a backup into this (empty) instance, using its keyring."""
    app = info.build()
    with app.app_context():
        try:
            summary = restore_backup(db.engine, envelope.keyring(), _attachments(app), path)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        db.engine.dispose()
    click.echo(f"Restored the backup of {summary.created_at} ({summary.database}).")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `exchange` console script."""
    try:
        cli.main(args=argv, prog_name="exchange")
    except (ConfigError, KeyringError) as error:
        click.echo(f"exchange: {error}", err=True)
        sys.exit(CONFIG_ERROR_EXIT)
    except OperationalError:
        click.echo(
            "exchange: cannot open the database (database.url); check that it is running and "
            "that the address and credentials are right.",
            err=True,
        )
        sys.exit(CONFIG_ERROR_EXIT)


if __name__ == "__main__":
    main()
