"""Friendly error pages: plain sentences for people, tracebacks only in the log."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
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
    return render_template(
        "errors/error.html", status=status, title=title, text=detail or text
    ), status


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
        return render_error(error.code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if isinstance(error, OperationalError):
            return render_error(503)
        return render_error(500)
