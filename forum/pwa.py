"""The installable Exchange: the web app manifest, the service worker and the offline page.

All three are served to anyone, signed in or not: a browser fetches the manifest and the worker
without cookies of its own choosing, and the offline page is stored by the worker. None of them
says anything about a member. The worker is served from the root so its scope is the whole site;
its cache name carries a digest of the static files, so a deploy that changes them also changes
the worker's bytes, the browser installs the new worker, and the old cache is dropped.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, url_for

from forum.extensions import limiter
from forum.security.headers import own_caching

bp = Blueprint("pwa", __name__)

THEME_COLOR = "#1d3557"
BACKGROUND_COLOR = "#ffffff"
VERSION_KEY = "exchange.static_version"
WORKER = "sw.js"


def _static_folder() -> Path:
    folder = current_app.static_folder
    assert folder is not None
    return Path(folder)


def _app_name() -> str:
    name: str = current_app.config["EXCHANGE"]["app"]["name"]
    return name


def _short_name(name: str) -> str:
    """The name under the icon: the last word of a long name ("INVICTM Exchange" -> "Exchange")."""
    return name if len(name) <= 12 else name.split()[-1][:12]


@bp.get("/manifest.webmanifest")
@limiter.exempt
def manifest() -> Response:
    """The web app manifest Chromium, Android and desktop installs read."""
    name = _app_name()

    def icon(file: str, size: int, purpose: str) -> dict[str, str]:
        return {
            "src": url_for("static", filename=f"icons/{file}"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }

    body: dict[str, Any] = {
        "id": "/",
        "name": name,
        "short_name": _short_name(name),
        "description": "A confidential exchange for experts who support victims of terrorism.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            icon("icon-192.png", 192, "any"),
            icon("icon-512.png", 512, "any"),
            icon("icon-maskable-512.png", 512, "maskable"),
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


def static_version() -> str:
    """A digest of every static file: changes whenever a deploy changes one (computed once)."""
    version: str | None = current_app.extensions.get(VERSION_KEY)
    if version is None:
        digest = hashlib.sha256()
        folder = _static_folder()
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        version = digest.hexdigest()[:16]
        current_app.extensions[VERSION_KEY] = version
    return version


@bp.get("/sw.js")
@limiter.exempt
def service_worker() -> Response:
    """static/sw.js from the root path (scope /), with its version and the app's name filled in."""
    source = (_static_folder() / WORKER).read_text(encoding="utf-8")
    source = source.replace('"__STATIC_VERSION__"', json.dumps(static_version())).replace(
        '"__APP_NAME__"', json.dumps(_app_name())
    )
    response = Response(source, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    # Browsers check for a new worker at least daily anyway; no-cache makes every check real.
    response.headers["Cache-Control"] = "no-cache"
    return own_caching(response)


@bp.get("/offline")
@limiter.exempt
def offline() -> Response:
    """The page the worker shows when the network is away: the same for everyone.

    Rendered straight from the template, without the context processors that ask who is
    signed in, so a copy stored by the worker names nobody and holds no token.
    """
    template = current_app.jinja_env.get_template("pwa/offline.html")
    return Response(template.render(app_name=_app_name()), mimetype="text/html")
