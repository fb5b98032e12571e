"""Health and readiness endpoints for a load balancer: they reveal nothing but up or down."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from forum.extensions import db, limiter

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
@limiter.exempt
def live() -> ResponseReturnValue:
    """Liveness: the process answers."""
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def ready() -> ResponseReturnValue:
    """Readiness: the database answers and the keyring is loaded."""
    checks = {"database": False, "keyring": "exchange.envelope" in current_app.extensions}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = True
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("readiness check: database unavailable")
    status = 200 if all(checks.values()) else 503
    return jsonify(status="ready" if status == 200 else "unavailable", checks=checks), status
