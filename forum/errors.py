"""The domain errors every feature raises, and the friendly pages they become.

A service raises `NotFound`, `NotAllowed` or `Invalid`; the app turns each into an answer once,
here: the request's writes are rolled back, a plain page is shown, and a form that was refused
is shown again with the user's text and the message at the field it belongs to. Views never
catch these, and never commit or roll back themselves (`forum.db` owns the unit of work).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, flash, g, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from forum.extensions import db, limiter
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule refused the request; the message is a plain sentence for the person."""

    status = 400

    def __init__(self, message: Text = "", *, field: str | None = None, **details: Any) -> None:
        # A lazy text (a module's constant) is said now, in the language of the request.
        message = str(message)
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class NotFound(DomainError):
    """The object does not exist or the actor may not know it does (the same answer for both)."""

    status = 404


class NotAllowed(DomainError):
    """The actor knows the object but may not do this to it."""

    status = 403


class Invalid(DomainError):
    """What was submitted breaks a rule; `field` names the form field the message belongs at."""

    status = 422


REFUSAL_KEY = "exchange_refusal"


def refusal() -> Invalid | None:
    """The `Invalid` this request is being re-rendered for, if any (read by `forum.forms`)."""
    return g.get(REFUSAL_KEY)


MESSAGES: dict[int, tuple[Text, Text]] = {
    400: (_l("Something in that request was not right"), _l("Please go back and try again.")),
    403: (_l("Not allowed"), _l("Your account may not do this.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("That upload is larger than this Exchange accepts.")),
    422: (_l("Please check the form"), _l("Some of what you entered needs another look.")),
    429: (_l("Too many attempts"), _l("Please wait a minute before you try again.")),
    500: (
        _l("Something went wrong on our side"),
        _l("It has been logged; please try again in a moment."),
    ),
    503: (
        _l("Temporarily unavailable"),
        _l("The Exchange cannot reach its database; please try again shortly."),
    ),
}


def render_error(status: int, detail: str | None = None) -> tuple[str, int]:
    """Render the friendly page for a status code."""
    title, text = MESSAGES.get(status, MESSAGES[500])
    try:
        page = render_template("errors/error.html", status=status, title=title, text=detail or text)
    except DBAPIError:
        # The layout asks who is signed in; with the database away, say so plainly instead.
        db.session.rollback()
        return render_unavailable()
    return page, status


def init_app(app: Flask) -> None:
    """Register friendly handlers for domain errors, HTTP errors, CSRF failures and the rest."""

    if _showing_again not in limiter._request_filters:  # one limiter for every app
        limiter.request_filter(_showing_again)

    @app.errorhandler(NotFound)
    @app.errorhandler(NotAllowed)
    def _refused(error: DomainError) -> tuple[str, int]:
        db_end_refused()
        return render_error(error.status, error.message or None)

    @app.errorhandler(Invalid)
    def _invalid(error: Invalid) -> ResponseReturnValue:
        db_end_refused()
        return _render_again(error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, _("This form has expired. Please go back, reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        if error.code is None or error.code < 400:
            return error
        db_end_refused()  # rolled back, unless kept on purpose (a lockout's audit)
        page, status = render_error(error.code)
        response = make_response(page, status)
        if status == error.code:
            # Keep what the error says for clients: Allow on a 405, Retry-After on a 429 …
            for name, value in error.get_headers():
                if name.lower() != "content-type":
                    response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        try:
            db.session.rollback()
        except DBAPIError:
            log.warning("rollback failed while the database is unavailable")
        if _database_unavailable(error):
            log.warning("database unavailable on %s %s", request.method, request.endpoint)
            return render_unavailable()
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        return render_error(500)


def _showing_again() -> bool:
    """Showing a refused form again runs its view a second time: one attempt, not two."""
    return g.get(REFUSAL_KEY) is not None


def db_end_refused() -> None:
    from forum.db import end_refused_request  # forum.db imports nothing of this module

    end_refused_request()


def _render_again(error: Invalid) -> ResponseReturnValue:
    """Show the refused form again: run the same view once more with the refusal set, so its
    form's `validate_on_submit()` answers False with the message at its field, and the view
    renders the page it renders for any invalid form, with everything the user typed."""
    view = current_app.view_functions.get(request.endpoint or "")
    if request.method not in {"POST", "PUT", "PATCH"} or view is None or g.get(REFUSAL_KEY):
        return render_error(422, error.message or None)
    setattr(g, REFUSAL_KEY, error)
    try:
        rv = view(**(request.view_args or {}))
    except DomainError as again:
        db_end_refused()
        return render_error(again.status, again.message or None)
    response = make_response(rv)
    if not getattr(g, "exchange_refusal_shown", False):
        # No form took the message (a one-button form that redirects): say it on the next page.
        flash(error.message, "error")
    db_end_refused()
    if response.status_code < 300:
        response.status_code = 422
    return response


def _database_unavailable(error: Exception) -> bool:
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and bool(error.connection_invalidated)
    )


# Form fields never echoed back: secrets and one-time codes.
SECRET_FIELD_WORDS = ("password", "code", "totp", "token", "secret", "csrf")


def unsaved_fields() -> list[tuple[str, str, bool]]:
    """The submitted form fields worth handing back: (name, value, is_long_text)."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return []
    fields = []
    for name, value in request.form.items(multi=True):
        if any(word in name.lower() for word in SECRET_FIELD_WORDS):
            continue
        fields.append((name, value, len(value) > 80 or "\n" in value))
    return fields


def render_unavailable() -> tuple[str, int]:
    """The 503 page, rendered without touching the database (no context processors, no member),
    handing the user back what they submitted with a button to send it again."""
    from forum.i18n import browser_choice, speaking

    template = current_app.jinja_env.get_template("errors/unavailable.html")
    # The browser's language: the member's profile choice would need the database.
    with speaking(browser_choice()):
        page = template.render(
            title=MESSAGES[503][0],
            text=MESSAGES[503][1],
            fields=unsaved_fields(),
            action=request.path,
            app_name=current_app.config["EXCHANGE"]["app"]["name"],
        )
    return page, 503
