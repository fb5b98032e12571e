"""Helpers shared by the members feature's routes: guards, client facts, safe redirects."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from forum.extensions import db
from forum.members.models import MemberSession
from forum.members.sessions import SESSION_KEY, current_session, recently_reauthenticated

F = TypeVar("F", bound=Callable[..., Any])


def coordinator_required(view: F) -> F:
    """Only active coordinators: others get 403 (anonymous browsers are sent to sign in)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("members.sign_in", next=request.path))
        if not current_user.is_coordinator:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def reauth_required(return_endpoint: str) -> Callable[[F], F]:
    """Ask for the password again unless it was entered in the last few minutes."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not recently_reauthenticated():
                flash("Please confirm your password first, then repeat what you were doing.")
                return redirect(url_for("members.reauth", next=url_for(return_endpoint)))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def reauth_required_on_post(return_endpoint: str) -> Callable[[F], F]:
    """reauth_required for the POST of a page whose GET stays open (a form that grants rights)."""

    def decorate(view: F) -> F:
        guarded = reauth_required(return_endpoint)(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method == "POST":
                return guarded(*args, **kwargs)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def ip_prefix() -> str:
    """The client's network (/24 or /48), enough for the audit log without the full address."""
    try:
        address = ipaddress.ip_address(get_remote_address())
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def safe_next(target: str | None, default: str) -> str:
    """A redirect target on this site only (a path), else the default."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def device_label(user_agent: str) -> str:
    """ "Firefox on Linux": a rough, recognisable name for a browser."""
    ua = user_agent or ""
    browser = "Browser"
    for needle, name in (
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ):
        if needle in ua:
            browser = name
            break
    system = "an unknown system"
    for needle, name in (
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ):
        if needle in ua:
            system = name
            break
    return f"{browser} on {system}"


def label_new_session() -> None:
    """Name the session sign_in_browser() just opened after the browser it belongs to."""
    token = session.get(SESSION_KEY)
    g.pop("member_session", None)
    if not isinstance(token, str):
        return
    row = db.session.get(MemberSession, hashlib.sha256(token.encode("ascii")).hexdigest())
    if row is not None:
        row.device_label = device_label(request.headers.get("User-Agent", ""))[:80]


def release_write_lock() -> None:
    """End this request's transaction, so slow work (a password hash) holds no database lock.

    On SQLite a POST begins with BEGIN IMMEDIATE (the write lock); Argon2id must not run under it.
    """
    db.session.rollback()


def begin_write() -> None:
    """Start the request's writing transaction again (BEGIN IMMEDIATE on SQLite)."""
    db.session.rollback()
    if db.engine.dialect.name == "sqlite":
        db.session.connection(execution_options={"sqlite_immediate": True})


def this_session() -> MemberSession | None:
    """The server session of this request."""
    return current_session()
