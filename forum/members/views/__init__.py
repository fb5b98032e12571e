"""The members feature's routes: this blueprint, and the route modules beside it that add to it
(getting in, joining, one's account, recovery, vetting, the coordinators' pages)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("members", __name__)

from forum.members.views import (  # noqa: E402, F401 - each adds its routes to bp
    account,
    admin,
    auth,
    join,
    recovery,
    vetting,
)

__all__ = ["bp"]
