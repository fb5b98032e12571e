"""The members feature's routes: this blueprint, and the route modules beside it that add to it
(getting in, joining, one's account, recovery, vetting, the coordinators' pages)."""

from __future__ import annotations

from flask import Blueprint

from forum.members import setup

bp = Blueprint("members", __name__)
# `exchange init` / `serve` run members' first-start step through the app (forum.ops.instance).
bp.record_once(
    lambda state: state.app.extensions.setdefault(setup.FIRST_START_KEY, []).append(
        setup.first_start
    )
)

from forum.members.views import (  # noqa: E402, F401 - each adds its routes to bp
    account,
    admin,
    auth,
    join,
    recovery,
    vetting,
)

__all__ = ["bp"]
