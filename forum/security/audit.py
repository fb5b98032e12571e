"""Append-only audit log of security events. It stores ids and kinds of events, never a secret."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, ForeignKey, String, Text, event, select
from sqlalchemy.orm import Mapped, mapped_column

from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db

# Keys a detail may carry. Anything else is refused, so no caller can slip content into the log.
ALLOWED_DETAILS = {
    "role",
    "status",
    "from_role",
    "to_role",
    "reason",
    "kek_id",
    "count",
    "label",
    "from_label",
    "to_label",
    "channel",
    "ip_prefix",
    "kind",
    "category_id",
    "thread_id",
    "post_id",
    "alert_id",
    "call_id",
    "occurrence_id",
    "organisation_id",
    "invite_id",
    "attempts",
    "result",
    "method",
    "service",  # a push service origin (scheme://host), never a device's endpoint path
}


class AuditEvent(db.Model):  # type: ignore[name-defined]
    """One security event: who did what to which object, when."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"

    @property
    def detail_items(self) -> dict[str, Any]:
        return json.loads(self.details or "{}")  # type: ignore[no-any-return]


# The log is append-only in the database itself, not only in the code. The migration that
# creates the table carries a copy of these statements (migrations/regenerate.py writes it).
APPEND_ONLY_TRIGGERS: dict[str, list[str]] = {
    "sqlite": [
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    ],
}

for _dialect, _statements in APPEND_ONLY_TRIGGERS.items():
    for _statement in _statements:
        event.listen(
            AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )


def record(
    action: str,
    *,
    actor: Any = None,
    target_type: str | None = None,
    target_id: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Append one event. Details are limited to known, non-secret keys."""
    unknown = set(details) - ALLOWED_DETAILS
    if unknown:
        raise ValueError(f"audit details may not carry {sorted(unknown)}")
    row = AuditEvent(
        id=new_id(),
        at=utcnow(),
        actor_id=getattr(actor, "id", actor),
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=json.dumps(details, sort_keys=True, default=str),
    )
    db.session.add(row)
    return row


def recent(limit: int = 200, action: str | None = None) -> list[AuditEvent]:
    """The newest events, optionally of one action."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))
