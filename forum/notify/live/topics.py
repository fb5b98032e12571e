"""What a page may watch (features register the rule of their prefix) and what it is told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _

from forum.notify import outbox
from forum.notify.models import Notification

MAX_WATCH = 5

_watch_rules: dict[str, Callable[[Any, str], bool]] = {}


def register_watch(prefix: str, allowed: Callable[[Any, str], bool]) -> None:
    """Let pages watch topics "<prefix>:<ref>" when allowed(member, ref) says so."""
    _watch_rules[prefix] = allowed


def allowed_topics(member: Any, wanted: list[str]) -> list[str]:
    allowed: list[str] = []
    for topic in wanted[:MAX_WATCH]:
        prefix, _sep, ref = topic.partition(":")
        rule = _watch_rules.get(prefix)
        if rule is not None and ref and rule(member, ref):
            allowed.append(topic)
    return allowed


def describe(notification: Notification) -> dict[str, Any]:
    """What a page receives about one of its member's notifications."""
    try:
        body = outbox.notification_text(notification)
    except Exception:  # a shredded object: say only that something happened
        body = _("New notification")
    return {
        "id": notification.id,
        "kind": notification.kind,
        "text": body,
        "link": notification.link,
        "urgent": bool(notification.is_urgent),
        "created_at": notification.created_at.isoformat(),
    }
