"""Scheduled sweeps of the members feature, handed to the scheduler by create_app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from flask import current_app
from sqlalchemy import delete, or_, update
from sqlalchemy.engine import CursorResult

from forum.db import utcnow
from forum.extensions import db
from forum.members import reconfirm
from forum.members.invites import purge_old_invites
from forum.members.models import MemberSession, RecoveryLink
from forum.scheduling.registry import JobSpec

# Ended sessions are kept a while for the member's own sessions page, then deleted.
KEEP_ENDED_SESSIONS = timedelta(days=30)


def purge_sessions() -> int:
    """End sessions past their idle or absolute timeout; delete long-ended ones."""
    settings = current_app.config["EXCHANGE"]["security"]
    now = utcnow()
    idle = now - timedelta(minutes=settings["session_idle_minutes"])
    absolute = now - timedelta(hours=settings["session_absolute_hours"])
    db.session.execute(
        update(MemberSession)
        .where(
            MemberSession.ended_at.is_(None),
            or_(MemberSession.last_seen_at < idle, MemberSession.created_at < absolute),
        )
        .values(ended_at=now, end_reason="timeout")
        .execution_options(synchronize_session=False)
    )
    result = cast(
        CursorResult[Any],
        db.session.execute(
            delete(MemberSession)
            .where(MemberSession.ended_at < now - KEEP_ENDED_SESSIONS)
            .execution_options(synchronize_session=False)
        ),
    )
    return int(result.rowcount or 0)


def purge_invites() -> int:
    """Shred the addresses of invites closed more than 30 days ago."""
    return purge_old_invites()


def sweep_confirmations() -> dict[str, int]:
    """Yearly re-confirmation and long absences: remind, tell, suspend (idempotent)."""
    return reconfirm.sweep()


def purge_recovery_links() -> int:
    """Delete recovery links that expired or were used more than 30 days ago (hashes only)."""
    cutoff = utcnow() - KEEP_ENDED_SESSIONS
    result = cast(
        CursorResult[Any],
        db.session.execute(
            delete(RecoveryLink)
            .where(or_(RecoveryLink.expires_at < cutoff, RecoveryLink.used_at < cutoff))
            .execution_options(synchronize_session=False)
        ),
    )
    return int(result.rowcount or 0)


def jobs() -> list[JobSpec]:
    """The members feature's recurring jobs: idempotent sweeps, hourly."""
    return [
        JobSpec(
            id="members.purge_sessions",
            func=purge_sessions,
            trigger="interval",
            trigger_args={"minutes": 15},
            misfire_grace_time=15 * 60,
        ),
        JobSpec(
            id="members.purge_recovery_links",
            func=purge_recovery_links,
            trigger="interval",
            trigger_args={"hours": 1},
            misfire_grace_time=60 * 60,
        ),
        JobSpec(
            id="members.purge_invites",
            func=purge_invites,
            trigger="interval",
            trigger_args={"hours": 1},
            misfire_grace_time=60 * 60,
        ),
        JobSpec(
            id="members.reconfirm",
            func=sweep_confirmations,
            trigger="interval",
            trigger_args={"hours": 6},
            misfire_grace_time=6 * 60 * 60,
        ),
    ]
