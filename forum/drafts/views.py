"""The drafts routes the form script calls: read, save and discard the signed-in member's own."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.drafts import service

bp = Blueprint("drafts", __name__)


def _json(payload: dict[str, object], status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/drafts/text")
@login_required
def text() -> Response:
    """The signed-in member's draft of one form (JSON; never another member's)."""
    try:
        found = service.load(current_user.id, request.args.get("key", ""))
    except service.DraftError as error:
        return _json({"error": str(error)}, 400)
    return _json({"text": found})


@bp.post("/drafts/text")
@login_required
def save() -> Response:
    """Keep what the member has typed so far (the form script posts it, debounced)."""
    try:
        service.save(current_user.id, request.form.get("key", ""), request.form.get("text", ""))
    except service.DraftError as error:
        return _json({"error": str(error)}, 400)
    return _json({"saved": True})


@bp.post("/drafts/discard")
@login_required
def discard() -> Response:
    """Throw a draft away."""
    try:
        service.discard(current_user.id, service.check_key(request.form.get("key", "")))
    except service.DraftError as error:
        return _json({"error": str(error)}, 400)
    return _json({"discarded": True})
