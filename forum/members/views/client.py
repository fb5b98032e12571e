"""What members' routes share: facts about the client, safe redirects, and the answers a
form gets (shown again, or a refused button reported on the next page)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from forum.extensions import db
from forum.forms import Form
from forum.members import totp
from forum.members.models import MemberSession
from forum.members.sessions import SESSION_KEY


def form_page(template: str, **context: Any) -> tuple[str, int]:
    """A form's page: as asked for (200), or shown again after a refused submission (422)."""
    return render_template(template, **context), 422 if request.method == "POST" else 200


def refused(form: Form, endpoint: str, **values: Any) -> Response:
    """A one-button form the service refused: say why on the page the button was on."""
    if not form.form_errors:
        abort(400)  # not a refusal: the form itself was wrong
    for message in form.form_errors:
        flash(message, "error")
    return redirect(url_for(endpoint, **values))


def set_problems(form: Form, problems: Mapping[str, str]) -> bool:
    """Put each problem at its field (unless it has one already); True when the form is clean."""
    for name, problem in problems.items():
        field = getattr(form, name)
        if not field.errors:
            field.errors = [*field.errors, problem]
    return not any(f.errors for f in form) and not form.form_errors


def authenticator_context(secret: str | None, email: str) -> dict[str, object]:
    """What a page that enrols an authenticator app shows: the secret, grouped and as a QR code."""
    if secret is None:
        return {}
    issuer = current_app.config["EXCHANGE"]["app"]["name"]
    uri = totp.provisioning_uri(secret, email, issuer)
    return {
        "secret": totp.grouped_secret(secret),
        "plain_secret": secret,
        "qr_svg": totp.qr_svg(uri),
        "uri": uri,
    }


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
    browser = _("Browser")
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
    system = _("an unknown system")
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
    # Stored as it is said now, in the member's language (as a push device's name is).
    return _("%(browser)s on %(system)s", browser=browser, system=system)


def label_new_session() -> None:
    """Name the session sign_in_browser() just opened after the browser it belongs to."""
    token = session.get(SESSION_KEY)
    g.pop("member_session", None)
    if not isinstance(token, str):
        return
    row = db.session.get(MemberSession, hashlib.sha256(token.encode("ascii")).hexdigest())
    if row is not None:
        row.device_label = device_label(request.headers.get("User-Agent", ""))[:80]
