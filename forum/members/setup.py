"""A new instance's first start, as far as features go: the default thread categories, and
a setup link for the first coordinator. Run by `forum.ops.instance.prepare_instance` through
the hook the members blueprint registers (the platform imports no feature)."""

from __future__ import annotations

from typing import Any

from forum.extensions import db
from forum.members import services
from forum.members.invites import create_invite, invite_link
from forum.threads import services as thread_services

# The app.extensions key forum.ops.instance reads its first-start steps from.
FIRST_START_KEY = "exchange.first_start"


def first_start(*, coordinator_email: str | None) -> dict[str, Any]:
    """Idempotent: default categories once; without a coordinator, an invitation for one.

    Commits each step, like any command (this runs from the CLI, never in a request).
    """
    thread_services.ensure_default_categories()  # once: a network with no category gets them
    db.session.commit()
    has_coordinator = bool(services.coordinators())
    setup_link = None
    if not has_coordinator and coordinator_email:
        _invite, token = create_invite(coordinator_email, role="coordinator")
        db.session.commit()
        setup_link = invite_link(token)
    return {"has_coordinator": has_coordinator, "setup_link": setup_link}
