"""The alerts feature's blueprint; its routes live beside this file, one module per topic:
raising, the alert page, answers, the board, corrections, coordination, the review, the register.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask_login import current_user

from forum.alerts import banners
from forum.alerts.models import ANSWERS, STATUSES
from forum.alerts.page import may_watch
from forum.countries import country_name
from forum.notify import live

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

live.register_watch("alert", may_watch)
live.register_watch("alerts", banners.may_watch_closed)


@bp.app_context_processor
def _banner_area() -> dict[str, Any]:
    """`alert_banners()` for the base layout: the open alerts asking this member for an answer."""

    def alert_banners() -> list[banners.Banner]:
        here = (request.view_args or {}).get("alert_id")
        return banners.page_banners(current_user or None, excluding=here)

    return {
        "alert_banners": alert_banners,
        "answer_choices": list(ANSWERS.items()),
        "alert_statuses": STATUSES,
        "country_name": country_name,
    }


# The route modules register on `bp`; imported last, as they import `bp` from here.
from forum.alerts.views import (  # noqa: E402
    answers,
    board,
    coordination,
    corrections,
    device,
    page,
    raising,
    register,
    review,
)

__all__ = [
    "answers",
    "board",
    "bp",
    "coordination",
    "corrections",
    "device",
    "page",
    "raising",
    "register",
    "review",
]
