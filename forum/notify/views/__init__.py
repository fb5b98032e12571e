"""Routes of the notify feature: the bell, failed deliveries and webhooks (coordinators), and
the live channel's streams (its own blueprint, `forum.notify.views.live.bp`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort
from flask_login import current_user, login_required

from forum.notify import policy, services

bp = Blueprint("notify", __name__, url_prefix="/notifications")


def coordinator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only active coordinators; a member gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not policy.may_coordinate(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.app_context_processor
def _bell() -> dict[str, Any]:
    """`unread_notifications` for base.html's bell: empty when none (the badge hides)."""
    return {"unread_notifications": services.bell_badge(current_user)}


# The route modules register on `bp` (the one accepted place for imports at the end).
from forum.notify.views import bell, failed, live, preferences, push, webhooks  # noqa: E402, F401
