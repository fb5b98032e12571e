"""The members' languages: which one a request speaks, the switcher that changes it, and the
locale an e-mail or a push is written in.

A page speaks the signed-in member's profile choice, else the language this browser picked
with the switcher (a plain cookie holding one of the seven codes: it says nothing about
anyone), else the best match of the browser's `Accept-Language`, else English. What is sent
to a member (e-mail, push) is written in their profile choice, else English: a worker has no
browser to ask. The join form offers the browser's language, so a new member has a choice.

The catalogues are gettext's, in `forum/translations/<code>/LC_MESSAGES/messages.po`, compiled
to `.mo` beside them and committed (a fresh install runs no build step);
`tests/i18n/test_catalogues.py` fails when one is missing a message, fuzzy, or stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeAlias
from urllib.parse import urlsplit

import flask_babel
from babel import support
from flask import Blueprint, Flask, current_app, redirect, request, session
from flask.globals import _cv_app
from flask_babel import Babel, force_locale, get_locale
from flask_babel.speaklater import LazyString
from flask_login import current_user
from werkzeug.wrappers import Response

from forum.extensions import db
from forum.security import cookies

# The seven languages, each named in itself (the switcher shows a name its reader knows).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
    "pl": "Polski",
}
DEFAULT = "en"
COOKIE = "exchange_lang"
JOIN_LOCALE = "join_locale"  # the join form's choice, kept in the session between its steps
COOKIE_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie (RFC 6265bis)
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

babel = Babel()
bp = Blueprint("i18n", __name__)


def known(code: str | None) -> str | None:
    """The code when it is one of the seven, else None."""
    return code if code in LANGUAGES else None


def cookie_name() -> str:
    settings = current_app.config["EXCHANGE"]
    return cookies.cookie_name(
        COOKIE, base_url=settings["app"]["base_url"], secure=settings["security"]["cookie_secure"]
    )


def browser_choice() -> str:
    """The language this browser asks for (switcher cookie, then Accept-Language), else English."""
    return known(request.cookies.get(cookie_name())) or (
        request.accept_languages.best_match(LANGUAGES) or DEFAULT
    )


def select_locale() -> str:
    """Flask-Babel's locale selector: profile, switcher, Accept-Language, English."""
    if not request:
        return DEFAULT
    if current_user and getattr(current_user, "is_authenticated", False):
        chosen = known(getattr(current_user, "locale", None))
        if chosen:
            return chosen
    return browser_choice()


def member_locale(member: object) -> str:
    """The language a member's e-mails and pushes are written in: their choice, else the
    language their browser spoke at their last sign-in, else English."""
    return (
        known(getattr(member, "locale", None))
        or known(getattr(member, "seen_locale", None))
        or DEFAULT
    )


def request_language() -> str:
    """This request's language, or "" outside a request (for what is sent on its behalf)."""
    return current_language() if request else ""


@contextmanager
def speaking(code: str | None) -> Iterator[None]:
    """Translate in `code` (one of the seven, else English) for the block, in any app context."""
    with force_locale(known(code) or DEFAULT):
        yield


# A text that is translated when it is read: `lazy_gettext(...)`, or a plain string.
Text: TypeAlias = str | LazyString


def in_language(value: Text, code: str) -> str:
    """A text as said in one language: a lazy text translated there, a plain string as it is."""
    if isinstance(value, LazyString):
        with speaking(code):
            return str(value)
    return value


def current_language() -> str:
    """The two-letter code of the language this request speaks (for `<html lang>`)."""
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT


def _safe_next(target: str | None) -> str:
    """A path on this site to go back to; anything else (another host, //evil) goes home."""
    if not target or any(ch < " " or ch == "\x7f" for ch in target):
        return "/"  # a control character (CR, LF, TAB) never goes into a Location header
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target:
        return "/"
    return target


@bp.post("/language")
def choose() -> Response:
    """The switcher: remember the choice in this browser and, when signed in, on the profile."""
    code = known(request.form.get("language"))
    response = redirect(_safe_next(request.form.get("next")), code=303)
    if code is None:
        return response
    response.set_cookie(
        cookie_name(),
        code,
        max_age=COOKIE_AGE,
        path="/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    if current_user.is_authenticated and current_user.locale != code:
        current_user.locale = code
        db.session.flush()
    if JOIN_LOCALE in session:  # joining: the new member gets the language chosen last
        session[JOIN_LOCALE] = code
    return response


CATALOGUES_KEY = "exchange.catalogues"


def translations() -> support.NullTranslations:
    """The catalogue of the language being spoken here, looked up once per language per process.

    Flask-Babel's own lookup walks `g` three times and formats the locale's name for every
    message (a thread page asks 120 times); this reads the locale it chose (or forced, inside
    `speaking`) and keeps each language's catalogue in a dict of the app."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return _NULL
    state = app_ctx.g.__dict__.get("_flask_babel")
    locale = getattr(state, "babel_locale", None) or get_locale()
    if locale is None:
        return _NULL
    catalogues: dict[str, support.NullTranslations] = app_ctx.app.extensions[CATALOGUES_KEY]
    found = catalogues.get(locale.language)
    if found is None:
        found = catalogues[locale.language] = flask_babel.get_translations()
    return found


_NULL = support.NullTranslations()


def init_app(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    babel.init_app(app, locale_selector=select_locale)
    app.extensions[CATALOGUES_KEY] = {}
    # The templates' _(), gettext and ngettext through the quick lookup (same catalogues).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text: translations().ugettext(text),
        ngettext=lambda one, many, n: translations().ungettext(one, many, n),
        newstyle=True,
        pgettext=lambda context, text: translations().upgettext(context, text),
        npgettext=lambda context, one, many, n: translations().unpgettext(context, one, many, n),
    )
    app.jinja_env.globals.update(interface_languages=LANGUAGES, current_language=current_language)
    app.register_blueprint(bp)
