"""Alerts for tests: raised through the service, with a canary string in the title."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from forum.alerts import services
from forum.alerts.models import Alert
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member

CANARY = "CANARY-7f3a9-Zeebrugge-harbour"


def raise_alert(raiser: Member, commit: bool = True, **fields: Any) -> Alert:
    """Raise an alert through the service with sensible fields (and a canary in the title)."""
    fields.setdefault("kind", "attack")
    fields.setdefault("title", f"Explosion at {CANARY}")
    fields.setdefault("city", "Brussels")
    fields.setdefault("country", "BE")
    fields.setdefault("occurred_at", utcnow() - timedelta(minutes=20))
    fields.setdefault("needs", f"Psychosocial support; {CANARY} details")
    fields.setdefault("severity", "critical")
    alert = services.raise_alert(raiser, **fields)
    if commit:
        db.session.commit()
    return alert
