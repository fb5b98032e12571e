"""Friendly error pages: plain sentences for people, tracebacks only in the log."""

from __future__ import annotations

import logging

from flask import Flask, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from forum.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something in that request was not right", "Please go back and try again."),
    403: ("Not allowed", "Your account may not do this."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "That upload is larger than this Exchange accepts."),
    422: ("Please check the form", "Some of what you entered needs another look."),
    429: ("Too many attempts", "Please wait a minute before you try again."),
    500: ("Something went wrong on our side", "It has been logged; please try again in a moment."),
    503: (
        "Temporarily unavailable",
        "The Exchange cannot reach its database; please try again shortly.",
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
    """Register friendly handlers for HTTP errors, CSRF failures and unexpected exceptions."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "This form has expired. Please go back, reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> object:
        if error.code is None or error.code < 400:
            return error
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
    template = current_app.jinja_env.get_template("errors/unavailable.html")
    page = template.render(
        title=MESSAGES[503][0],
        text=MESSAGES[503][1],
        fields=unsaved_fields(),
        action=request.path,
        app_name=current_app.config["EXCHANGE"]["app"]["name"],
    )
    return page, 503
