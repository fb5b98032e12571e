"""Server-side sessions: revocable at once, with idle and absolute timeouts.

The signed Flask cookie carries only a random token (key "sid"); the database stores its SHA-256.
Ending a session row ends the browser's access on its next request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, session
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from forum.db import utcnow
from forum.extensions import db, login_manager
from forum.members.models import Member, MemberSession
from forum.notify import subscriptions

log = logging.getLogger(__name__)

SESSION_KEY = "sid"
# last_seen_at is written at most this often, so reading pages does not serialise on writes.
TOUCH_EVERY = timedelta(seconds=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(member: Member) -> str:
    """Open a server session for a member and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        MemberSession(
            id=_digest(token), member_id=member.id, created_at=now, last_seen_at=now, reauth_at=now
        )
    )
    db.session.flush()
    return token


def fresh_cookie_session() -> None:
    """Empty this browser's cookie session, and forget the CSRF token this request already
    made from it: a page rendered after this (the recovery codes right after joining) must
    carry a token of the new session, or every form on it answers "the form has expired"."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def sign_in_browser(member: Member) -> None:
    """Open a session and bind it to this browser's cookie (a fresh cookie: no fixation)."""
    token = start_session(member)
    fresh_cookie_session()
    session[SESSION_KEY] = token
    session.permanent = True


def _limits() -> tuple[timedelta, timedelta]:
    settings = current_app.config["EXCHANGE"]["security"]
    return (
        timedelta(minutes=settings["session_idle_minutes"]),
        timedelta(hours=settings["session_absolute_hours"]),
    )


def current_session() -> MemberSession | None:
    """The live server session of this request, if any (cached on g)."""
    if "member_session" in g:
        return g.member_session  # type: ignore[no-any-return]
    token = session.get(SESSION_KEY)
    row: MemberSession | None = None
    if isinstance(token, str) and token:
        # One query for the session and its member: every signed-in page starts here.
        row = db.session.scalars(
            select(MemberSession)
            .options(joinedload(MemberSession.member))
            .where(MemberSession.id == _digest(token))
        ).first()
        if row is not None and not _is_live(row, utcnow()):
            if row.ended_at is None:
                _after_request(row.id, ended_at=utcnow(), end_reason="timeout")
            row = None
    g.member_session = row
    return row


def _is_live(row: MemberSession, now: datetime) -> bool:
    idle, absolute = _limits()
    return (
        row.ended_at is None
        and now - row.last_seen_at < idle
        and now - row.created_at < absolute
        and row.member.status == "active"
    )


@login_manager.request_loader
def load_member_from_request(_request: object) -> Member | None:
    """Flask-Login's loader: the member of the live server session, touching it now and then."""
    row = current_session()
    if row is None:
        return None
    now = utcnow()
    if now - row.last_seen_at > TOUCH_EVERY:
        _after_request(row.id, last_seen_at=now)
    return row.member


DEFERRED_KEY = "exchange_session_writes"


def _after_request(session_id: str, **values: object) -> None:
    """Queue bookkeeping for a session row, written once the request's own transaction ended.

    Written on its own connection, never inside the request's unit of work: and never while the
    request holds SQLite's write lock (every POST takes it up front), which a second connection
    would wait on until the busy timeout.
    """
    g.setdefault(DEFERRED_KEY, []).append((session_id, values))


def write_deferred() -> None:
    """Write the queued session bookkeeping (called at the end of the request, after the
    request's session is released). Losing a touch to a busy database is harmless: logged."""
    writes = g.pop(DEFERRED_KEY, None)
    if not writes:
        return
    try:
        with db.engine.begin() as connection:
            for session_id, values in writes:
                connection.execute(
                    update(MemberSession).where(MemberSession.id == session_id).values(**values)
                )
    except DBAPIError:
        log.warning("session bookkeeping skipped: the database is busy or away")


def end_current_session(reason: str = "logout") -> None:
    """End this browser's session (sign out)."""
    row = current_session()
    if row is not None:
        row.ended_at = utcnow()
        row.end_reason = reason
        # This device signed out: its push subscription and answer credential end with it.
        subscriptions.end_for_sessions([row.id], "signed out")
    fresh_cookie_session()
    g.pop("member_session", None)


def end_all_sessions(member: Member, reason: str, keep: MemberSession | None = None) -> int:
    """End every live session of a member (suspension, password or factor change), and the
    push subscriptions of every device but the kept sign-in's (a device whose sign-in timed
    out earlier included)."""
    query = select(MemberSession.id).where(
        MemberSession.member_id == member.id, MemberSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(MemberSession.id != keep.id)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(MemberSession)
            .where(MemberSession.id.in_(ids))
            .values(ended_at=utcnow(), end_reason=reason)
        )
    subscriptions.end_for_member(member.id, reason, keep_session=keep.id if keep else None)
    return len(ids)


def mark_reauthenticated() -> None:
    """Record that the member just re-entered their password in this session."""
    row = current_session()
    if row is not None:
        row.reauth_at = utcnow()


def recently_reauthenticated() -> bool:
    """True when the password was entered within security.reauth_minutes in this session."""
    row = current_session()
    if row is None:
        return False
    window = timedelta(minutes=current_app.config["EXCHANGE"]["security"]["reauth_minutes"])
    return utcnow() - row.reauth_at < window


def live_sessions(member: Member) -> list[MemberSession]:
    """A member's sessions that have not ended."""
    return list(
        db.session.scalars(
            select(MemberSession)
            .where(MemberSession.member_id == member.id, MemberSession.ended_at.is_(None))
            .order_by(MemberSession.created_at.desc())
        )
    )
