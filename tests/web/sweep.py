"""What the route sweeps share: every rule of the live url_map, URL arguments of the right
shape, visitors in four roles, a snapshot of the whole database, and an HTML check for the
inline code the Content-Security-Policy forbids.

The sweeps read `app.url_map` at run time, so a route added by any feature is swept the day it
lands, and tests/web/route_inventory.py must name it.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.routing.converters import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UUIDConverter,
)

from forum.extensions import db
from tests.web.route_inventory import ROUTES

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
SWEPT_METHODS = ("GET", *STATE_CHANGING)
# Columns a GET may write, on purpose and documented: the server session's "seen" time (written
# at most once a minute so idle timeouts work without a write per page view).
GET_MAY_WRITE = {("member_sessions", "last_seen_at")}
# Tables a GET may write, on purpose and documented: reading a thread records how far the reader
# has read (unread markers, "new since your last visit"), as Discourse does.
GET_MAY_WRITE_TABLES = {"thread_read_states"}


@dataclass(frozen=True)
class Target:
    """One request the sweep makes: a rule, a method and a concrete URL."""

    endpoint: str
    method: str
    url: str
    rule: str

    def __str__(self) -> str:
        return f"{self.method} {self.url} ({self.endpoint})"


def app_rules(app: Flask) -> list[Rule]:
    """Every rule of the application, in a stable order."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def missing_from_inventory(app: Flask) -> list[str]:
    """Endpoints served by the app that the route inventory does not name."""
    return sorted({r.endpoint for r in app_rules(app)} - set(ROUTES))


def _string_value(regex: str) -> str:
    """Hex text that fits a string converter's length rule (32 hex, like an application id)."""
    for length in (32, 43, 64, 16, 8, 2, 1):
        value = secrets.token_hex(length)[:length]
        if re.fullmatch(regex, value):
            return value
    match = re.search(r"\{(\d+)", regex)
    length = int(match.group(1)) if match else 32
    return secrets.token_hex(length)[:length]


def argument_value(converter: Any) -> Any:
    """A random, well-formed value of the converter's type that names nothing that exists."""
    if isinstance(converter, UUIDConverter):
        return uuid.uuid4()
    if isinstance(converter, IntegerConverter):
        return secrets.randbelow(900_000) + 100_000
    if isinstance(converter, FloatConverter):
        return 123456.5
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, PathConverter):
        return f"{secrets.token_hex(16)}/{secrets.token_hex(4)}"
    return _string_value(converter.regex)


def targets(
    app: Flask, methods: tuple[str, ...] = SWEPT_METHODS, known: dict[str, Any] | None = None
) -> Iterator[Target]:
    """Each (rule, method) of the app with its arguments filled: a known value for an argument
    of that name (`known={"thread_id": ...}`), else a random well-formed one."""
    known = known or {}
    for rule in app_rules(app):
        values = {
            name: known[name] if name in known else argument_value(converter)
            for name, converter in rule._converters.items()  # noqa: SLF001 - werkzeug keeps them here
        }
        built = rule.build(values, append_unknown=False)
        assert built is not None, f"cannot build a URL for {rule.rule}"
        url = built[1]
        for method in methods:
            if method in (rule.methods or ()):
                yield Target(rule.endpoint, method, url, rule.rule)


def in_own_context(app: Flask, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one request in its own app context, as a real server does (fresh `g`, fresh session).

    The `app` fixture keeps one app context pushed for the whole test, and Flask's test client
    reuses it, so `g` (where the server session is cached) would outlive a request.
    """
    with app.app_context():
        return call(*args, **kwargs)


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (except columns a GET may write), for before/after comparisons."""
    db.session.expire_all()
    state: dict[str, list[tuple[Any, ...]]] = {}
    for table in db.metadata.sorted_tables:
        if table.name in GET_MAY_WRITE_TABLES:
            continue
        columns = [c for c in table.columns if (table.name, c.name) not in GET_MAY_WRITE]
        rows = db.session.execute(select(*columns)).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    db.session.rollback()
    return state


def differences(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    """Tables whose rows changed, with counts, in plain words."""
    changed = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        if old != new:
            added = len([r for r in new if r not in old])
            removed = len([r for r in old if r not in new])
            changed.append(f"{table}: {len(old)} -> {len(new)} rows (+{added} / -{removed})")
    return changed


class _InlineCodeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower() for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("an inline <script> element")
            self._in_inline_script = True
        if tag == "style":
            self.problems.append("a <style> element")
        if "style" in names:
            self.problems.append(f"a style= attribute on <{tag}>")
        handlers = sorted(n for n in names if n.startswith("on"))
        if handlers:
            self.problems.append(f"inline event handler {handlers} on <{tag}>")
        for name, value in attrs:
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"a javascript: URL in <{tag} {name}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False


def inline_code(html: str) -> list[str]:
    """Inline scripts, styles and event handlers in a page (the CSP would block them)."""
    finder = _InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return sorted(set(finder.problems))
