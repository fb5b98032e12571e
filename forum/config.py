"""Settings: built-in safe defaults, then a TOML file, then EXCHANGE_<SECTION>_<KEY> variables.

Every key the application knows is listed in DEFAULTS (and documented in config.example.toml).
Validation stops the start with one sentence naming the key: an unknown key, a missing required
key, a weak secret or a value of the wrong type is a ConfigError.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from forum.notify.channels.addresses import AllowList
from forum.notify.verp import address_problem


class ConfigError(Exception):
    """A configuration problem, said in one sentence that names the key."""


# section -> key -> default. None means "required" (no safe default exists).
DEFAULTS: dict[str, dict[str, Any]] = {
    "app": {
        "secret_key": None,
        "base_url": "http://127.0.0.1:8080",
        "instance_path": "instance",
        "name": "INVICTM Exchange",
        "log_level": "INFO",
    },
    "database": {
        # Empty means the embedded default: a SQLite file in the instance folder.
        "url": "",
    },
    "security": {
        "session_idle_minutes": 120,
        "session_absolute_hours": 12,
        "cookie_secure": True,
        "invite_ttl_hours": 72,
        "reauth_minutes": 10,
        "ratelimit_storage_uri": "memory://",
        "ratelimit_enabled": True,
    },
    "crypto": {
        # Empty means <instance>/keyring.json; EXCHANGE_KEYRING may hold the keyring itself.
        "keyring_path": "",
    },
    "mail": {
        # Empty smtp_host: the embedded default writes .eml files into <instance>/outbox-mail.
        "smtp_host": "",
        "smtp_port": 25,
        "smtp_username": "",
        "smtp_password": "",
        "smtp_starttls": False,
        "smtp_timeout_seconds": 10,
        "from_address": "exchange@localhost",
        # Bounce reading (VERP): every e-mail's envelope sender becomes bounces+<token>@domain;
        # empty: off (the envelope sender is from_address).
        "bounce_address": "",
        # Where the bounce receiver (SMTP/LMTP-style, in the scheduler's process) listens,
        # host:port such as 127.0.0.1:8026; empty: no receiver.
        "bounce_listen": "",
    },
    "delivery": {
        "max_attempts": 8,
        "retry_base_seconds": 30,
        "lease_seconds": 120,
        "batch_size": 200,
        # How often the sweep looks for urgent rows a crash or another process left behind.
        "urgent_sweep_seconds": 3,
        "webhook_timeout_seconds": 10,
        # Internal webhook receivers (host names, IPs, CIDR networks, comma-separated): only these
        # may be private or loopback addresses, or plain http. Empty: public https receivers only.
        "webhook_allow_hosts": "",
    },
    "push": {
        # Web Push (RFC 8030/8291/8292) to members' devices; the VAPID key is in the keyring.
        "enabled": True,
        # The VAPID "sub" claim a push service may use to reach the operator; empty: mailto: the
        # mail.from_address.
        "contact": "",
        # How long a push service keeps an undelivered message: urgent alerts briefly (a stale
        # "urgent" is noise), everything else for a day.
        "urgent_ttl_seconds": 600,
        "normal_ttl_seconds": 86400,
        "timeout_seconds": 10,
        # Push services devices may subscribe with (host names or parent domains, comma-separated):
        # the browsers' own services. A subscription to any other endpoint is refused.
        "service_hosts": (
            "fcm.googleapis.com, updates.push.services.mozilla.com, push.services.mozilla.com, "
            "web.push.apple.com, notify.windows.com"
        ),
        # Internal or test push services (host names, IPs, CIDR networks): may be private or
        # loopback addresses, or plain http, as for delivery.webhook_allow_hosts.
        "allow_hosts": "",
        # Answers from a notification, per device: at most this many an hour.
        "answers_per_hour": 30,
    },
    "scheduler": {
        "enabled": True,
        "sweep_seconds": 30,
        "misfire_grace_seconds": 300,
        # An idle `exchange worker` tries to take over the scheduler this often.
        "lock_retry_seconds": 5,
    },
    "server": {
        "host": "127.0.0.1",
        "port": 8080,
        # Threads for page requests; open live pages and slow clients wait on the event loop.
        "threads": 16,
        # Open live pages (server-sent-event streams) one member may hold per web process.
        "live_streams_per_member": 5,
        "live_heartbeat_seconds": 15,
        "live_stream_seconds": 300,
        "live_poll_ms": 50,
    },
    "uploads": {
        "max_bytes": 10 * 1024 * 1024,
        # Empty means <instance>/attachments.
        "path": "",
    },
    "alerts": {
        "escalation_min_answers": 3,
        "escalation_after_minutes": 15,
        "coordinator_escalation_after_minutes": 30,
    },
    "calls": {
        "horizon_months": 6,
        "reminder_grace_minutes": 60,
    },
    "vetting": {
        # Members of this many different organisations vouch before a nomination can be approved.
        "sponsors_required": 2,
        # Each member confirms their organisation and role this often, with this much grace.
        "reconfirm_days": 365,
        "reconfirm_grace_days": 30,
        # Members who have not signed in for this long are told, then suspended after the notice.
        "inactive_days": 180,
        "inactive_notice_days": 30,
    },
    "limits": {
        # Per member, counted from the database (so every process shares them); 0 = no limit.
        "alerts_per_hour": 3,
        "threads_per_hour": 10,
        "adhoc_calls_per_day": 3,
        "nominations_per_day": 5,
        # Coordinators may create this many times as much.
        "coordinator_multiplier": 3,
    },
}

SECRET_MIN_LENGTH = 32
WEAK_SECRETS = {"dev", "secret", "changeme", "change-me", "development", "test", "password"}


def _coerce(section: str, key: str, value: Any, default: Any) -> Any:
    """Turn a value (often a string from the environment) into the default's type."""
    name = f"{section}.{key}"
    if default is None or isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"Setting {name} must be text.")
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"Setting {name} must be true or false.")
    if isinstance(default, int):
        if isinstance(value, bool):
            raise ConfigError(f"Setting {name} must be a whole number.")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"Setting {name} must be a whole number.") from None
    return value


def _merge(target: dict[str, dict[str, Any]], source: Mapping[str, Any], origin: str) -> None:
    for section, values in source.items():
        if section not in DEFAULTS:
            raise ConfigError(f"Unknown section [{section}] in {origin}.")
        if not isinstance(values, Mapping):
            raise ConfigError(f"Section [{section}] in {origin} must be a table of settings.")
        for key, value in values.items():
            if key not in DEFAULTS[section]:
                raise ConfigError(f"Unknown setting {section}.{key} in {origin}.")
            target[section][key] = _coerce(section, key, value, DEFAULTS[section][key])


def _from_environment(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, value in environ.items():
        if not name.startswith("EXCHANGE_") or name in NON_SETTING_VARIABLES:
            continue
        rest = name[len("EXCHANGE_") :].lower()
        for section in DEFAULTS:
            if rest.startswith(section + "_"):
                key = rest[len(section) + 1 :]
                found.setdefault(section, {})[key] = value
                break
        else:
            raise ConfigError(f"Unknown setting in environment variable {name}.")
    return found


# Variables that start with EXCHANGE_ but are not settings.
NON_SETTING_VARIABLES = {"EXCHANGE_CONFIG", "EXCHANGE_KEYRING", "EXCHANGE_TEST_DATABASE_URL"}


def load_settings(
    path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Read defaults, the TOML file, the environment and overrides, then validate."""
    environ = os.environ if environ is None else environ
    settings = copy.deepcopy(DEFAULTS)
    path = path or environ.get("EXCHANGE_CONFIG") or None
    if path is None:
        # The embedded default keeps its generated config in the instance folder.
        folder = environ.get("EXCHANGE_APP_INSTANCE_PATH") or settings["app"]["instance_path"]
        candidate = Path(folder) / "exchange.toml"
        if candidate.exists():
            path = candidate
    if path is not None:
        file = Path(path)
        if not file.exists():
            raise ConfigError(
                f"Configuration file {file} does not exist (from --config or EXCHANGE_CONFIG)."
            )
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"Configuration file {file} is not valid TOML: {error}.") from None
        _merge(settings, data, str(file))
    _merge(settings, _from_environment(environ), "the environment")
    if overrides:
        _merge(settings, overrides, "the overrides")
    validate(settings)
    return settings


def validate(settings: dict[str, dict[str, Any]]) -> None:
    """Stop on a missing required key, a weak secret or an impossible value."""
    for section, keys in DEFAULTS.items():
        for key, default in keys.items():
            if default is None and not settings[section].get(key):
                raise ConfigError(
                    f"Setting {section}.{key} is missing; run `exchange init` or set "
                    f"EXCHANGE_{section.upper()}_{key.upper()}."
                )
    secret = settings["app"]["secret_key"]
    if len(secret) < SECRET_MIN_LENGTH or secret.lower() in WEAK_SECRETS or len(set(secret)) < 10:
        raise ConfigError(
            f"Setting app.secret_key is too weak; use at least {SECRET_MIN_LENGTH} random characters."
        )
    positive = [
        ("security", "session_idle_minutes"),
        ("security", "session_absolute_hours"),
        ("security", "invite_ttl_hours"),
        ("delivery", "max_attempts"),
        ("delivery", "lease_seconds"),
        ("delivery", "batch_size"),
        ("delivery", "urgent_sweep_seconds"),
        ("delivery", "webhook_timeout_seconds"),
        ("push", "urgent_ttl_seconds"),
        ("push", "normal_ttl_seconds"),
        ("push", "timeout_seconds"),
        ("push", "answers_per_hour"),
        ("scheduler", "lock_retry_seconds"),
        ("scheduler", "sweep_seconds"),
        ("server", "threads"),
        ("server", "live_streams_per_member"),
        ("uploads", "max_bytes"),
        ("calls", "horizon_months"),
        ("vetting", "sponsors_required"),
        ("vetting", "reconfirm_days"),
        ("vetting", "reconfirm_grace_days"),
        ("vetting", "inactive_days"),
        ("vetting", "inactive_notice_days"),
        ("limits", "coordinator_multiplier"),
    ]
    for section, key in positive:
        if settings[section][key] <= 0:
            raise ConfigError(f"Setting {section}.{key} must be greater than zero.")
    for key, value in settings["limits"].items():
        if value < 0:
            raise ConfigError(f"Setting limits.{key} must be zero (no limit) or more.")
    try:
        AllowList.parse(settings["delivery"]["webhook_allow_hosts"])
    except ValueError as error:
        raise ConfigError(
            f"Setting delivery.webhook_allow_hosts has an entry that is neither a host name nor "
            f"an IP address or network: {error}."
        ) from None
    try:
        AllowList.parse(settings["push"]["allow_hosts"])
    except ValueError as error:
        raise ConfigError(
            f"Setting push.allow_hosts has an entry that is neither a host name nor "
            f"an IP address or network: {error}."
        ) from None
    contact = settings["push"]["contact"].strip()
    if contact and not re.fullmatch(
        r"(mailto:)?[^@\s]+@[^@\s]+\.[^@\s]+|https://[^\s/]+\S*", contact
    ):
        raise ConfigError(
            "Setting push.contact must be an e-mail address, a mailto: address or an https:// "
            "address (or empty, for mailto: the mail.from_address)."
        )
    _validate_bounces(settings["mail"])
    if not 0 < settings["server"]["port"] < 65536:
        raise ConfigError("Setting server.port must be between 1 and 65535.")
    url = settings["database"]["url"]
    if url and not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise ConfigError("Setting database.url must be a sqlite: or postgresql: address.")
    if not settings["app"]["base_url"].startswith(("http://", "https://")):
        raise ConfigError("Setting app.base_url must start with http:// or https://.")


def listen_address(value: str) -> tuple[str, int] | None:
    """host:port (or [IPv6]:port) as a (host, port) pair, or None when it is not one."""
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", value)
    if match is None:
        return None
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    return (host, port) if 0 < port < 65536 else None


def _validate_bounces(mail: dict[str, Any]) -> None:
    address = mail["bounce_address"].strip()
    problem = address_problem(address) if address else None
    if problem:
        raise ConfigError(f"Setting mail.bounce_address {problem}; leave it empty for no bounces.")
    listen = mail["bounce_listen"].strip()
    if listen and listen_address(listen) is None:
        raise ConfigError(
            "Setting mail.bounce_listen must be host:port such as 127.0.0.1:8026 (or empty)."
        )
    if listen and not address:
        raise ConfigError(
            "Setting mail.bounce_listen needs mail.bounce_address: without it no bounce can "
            "reach the receiver."
        )


def database_url(settings: dict[str, dict[str, Any]]) -> str:
    """The SQLAlchemy URL: the configured one, or the embedded SQLite file."""
    url: str = settings["database"]["url"]
    if not url:
        instance = Path(settings["app"]["instance_path"]).resolve()
        return f"sqlite:///{instance / 'exchange.db'}"
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
