"""Who may do what in notify: the one reader of roles for the notify feature."""

from __future__ import annotations

from forum.errors import NotAllowed
from forum.notify.recipients import Actor


def may_coordinate(actor: Actor | None) -> bool:
    """Whether the actor manages deliveries and webhooks (an active coordinator)."""
    return bool(actor is not None and getattr(actor, "is_coordinator", False))


def require_coordinator(actor: Actor, message: str) -> None:
    """Refuse (NotAllowed, with this sentence) anyone who is not a coordinator."""
    if not may_coordinate(actor):
        raise NotAllowed(message)
