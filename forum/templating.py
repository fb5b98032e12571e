"""Jinja helpers shared by every feature's templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from forum.markup import tlp


def url_if(endpoint: str, **values: Any) -> str | None:
    """The URL of an endpoint, or None while that feature has no such route."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def viewer_zone() -> ZoneInfo:
    """The signed-in member's time zone (UTC for anyone else or an unknown zone)."""
    name = getattr(current_user, "timezone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def localtime(
    value: datetime | None, zone: str | None = None, fmt: str = "%a %d %b %Y, %H:%M"
) -> str:
    """A UTC datetime shown in the viewer's time zone (or a named one), with the zone's abbreviation."""
    if value is None:
        return ""
    tz = ZoneInfo(zone) if zone else viewer_zone()
    local = value.astimezone(tz)
    return f"{local.strftime(fmt)} {local.tzname()}"


def tlp_label(label: str | tlp.Label) -> tlp.Label:
    """The TLP label for a code ("AMBER+STRICT"); a Label is returned as it is."""
    return label if isinstance(label, tlp.Label) else tlp.get(label)


def init_app(app: Flask) -> None:
    """Register the helpers as Jinja globals and filters."""
    app.jinja_env.globals.update(url_if=url_if, app_name=app.config["EXCHANGE"]["app"]["name"])
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["tlp_label"] = tlp_label
