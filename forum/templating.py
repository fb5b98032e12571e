"""Jinja helpers shared by every feature's templates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from flask import Flask, current_app, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
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


# The display formats templates ask for, as CLDR skeletons: Babel orders, spells and punctuates
# each for the reader's language ("jeu. 3 déc. 2026, 14:00", "czw., 3 gru 2026, 14:00"). English
# keeps the strftime form, the day-month-year order the network writes in English.
SKELETONS: dict[str, tuple[str | None, str | None]] = {
    "%a %d %b %Y, %H:%M": ("yMMMEd", "Hm"),
    "%a %d %b, %H:%M": ("MMMEd", "Hm"),
    "%d %b %Y": ("yMMMd", None),
    "%d %b %Y %H:%M:%S": ("yMMMd", "Hms"),
    "%d %B %Y": ("yMMMMd", None),
    "%A %d %B %Y": ("yMMMMEEEEd", None),
    "%H:%M": (None, "Hm"),
}


def reader_language() -> str:
    """The language of the page being rendered (English outside a request)."""
    locale = get_locale()
    return locale.language if locale is not None else "en"


def format_local(local: datetime, fmt: str) -> str:
    """A local datetime in one of SKELETONS' formats, in the reader's language; any other
    format (a machine one such as "%Y%m%d") through strftime."""
    language = reader_language()
    if fmt not in SKELETONS or language == "en":
        return local.strftime(fmt)
    date_skeleton, time_skeleton = SKELETONS[fmt]
    date = format_skeleton(date_skeleton, local, locale=language) if date_skeleton else ""
    time = format_skeleton(time_skeleton, local, locale=language) if time_skeleton else ""
    if date and time:
        pattern = str(Locale.parse(language).datetime_formats["medium"])
        return pattern.replace("{1}", date).replace("{0}", time)
    return date or time


def localtime(
    value: datetime | None, zone: str | None = None, fmt: str = "%a %d %b %Y, %H:%M"
) -> str:
    """A UTC datetime shown in the viewer's time zone (or a named one), with the zone's
    abbreviation, in the reader's language."""
    if value is None:
        return ""
    tz = ZoneInfo(zone) if zone else viewer_zone()
    local = value.astimezone(tz)
    return f"{format_local(local, fmt)} {local.tzname()}"


def number(value: int | float) -> str:
    """A number as the reader's language writes it (1,000 / 1 000 / 1.000)."""
    return format_decimal(value, locale=reader_language())


def tlp_label(label: str | tlp.Label) -> tlp.Label:
    """The TLP label for a code ("AMBER+STRICT"); a Label is returned as it is."""
    return label if isinstance(label, tlp.Label) else tlp.get(label)


PER_LANGUAGE_KEY = "exchange.rendered_per_language"


def per_language(name: str, render: Callable[[], Markup]) -> Markup:
    """A fragment that depends on the reader's language alone (the scripts' words), rendered
    once per language per process and kept in memory."""
    done: dict[tuple[str, str], Markup] = current_app.extensions[PER_LANGUAGE_KEY]
    key = (name, reader_language())
    found = done.get(key)
    if found is None:
        found = done[key] = render()  # a macro call: Markup already escaped by Jinja
    return found


def init_app(app: Flask) -> None:
    """Register the helpers as Jinja globals and filters."""
    app.extensions[PER_LANGUAGE_KEY] = {}
    app.jinja_env.globals.update(
        url_if=url_if, app_name=app.config["EXCHANGE"]["app"]["name"], per_language=per_language
    )
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["tlp_label"] = tlp_label
