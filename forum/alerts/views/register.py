"""The alert register: every past alert the member may read."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from forum.alerts import coordination
from forum.alerts.views import bp


@bp.get("")
@login_required
def index() -> str:
    """The alert register: every past alert with dates, countries, answers and its review."""
    entries = coordination.register(current_user)
    return render_template("alerts/index.html", entries=entries)
