"""The live channel's routes: a page's server-sent-events stream, and the poll that replaces it
when the stream is down. Its own blueprint "live" (/live), registered by create_app."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user, login_required

from forum.notify import services
from forum.notify.live import streams
from forum.notify.live.topics import describe

log = logging.getLogger(__name__)

bp = Blueprint("live", __name__, url_prefix="/live")


@bp.get("/stream")
@login_required
def stream() -> Response:
    """Server-sent events for the signed-in member's open page."""
    return streams.open_stream(current_user, request.args.getlist("watch"))


@bp.get("/poll")
@login_required
def poll() -> Response:
    """The fallback when the stream is down: unread count and unread urgent notifications."""
    unread, urgent = services.poll_state(current_user)
    return jsonify(unread=unread, urgent=[describe(n) for n in urgent])
