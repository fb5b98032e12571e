"""The live response board, for the raiser and coordinators."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from forum.alerts import services
from forum.alerts.models import ANSWERS
from forum.alerts.views import bp


@bp.get("/<alert_id>/board")
@login_required
def board(alert_id: str) -> str:
    """The live response board."""
    data = services.board(current_user, alert_id)
    return render_template("alerts/board.html", board=data, alert=data.alert, answers=ANSWERS)


@bp.get("/<alert_id>/board/fragment")
@login_required
def board_fragment(alert_id: str) -> str:
    """The board's table alone, for open board pages that refresh it without reload."""
    data = services.board(current_user, alert_id)
    return render_template("alerts/_board.html", board=data, alert=data.alert, answers=ANSWERS)
