"""Routes of the members feature: the blueprint and the modules that add routes to it."""

from __future__ import annotations

from forum.members import (  # noqa: F401 - add routes
    routes_account,
    routes_admin,
    routes_auth,
    routes_recovery,
    routes_vetting,
)
from forum.members.blueprint import bp

__all__ = ["bp"]
