"""The signed-in start page: what is new across the Exchange."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response | str:
    """Signed in: the start page; otherwise: the sign-in page."""
    if not current_user.is_authenticated:
        return redirect(url_for("members.sign_in"))
    return render_template("home.html", can_coordinate_network=current_user.is_coordinator)
