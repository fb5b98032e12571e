"""A member's own account: profile, password, second factor, sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from forum.countries import is_country, is_time_zone
from forum.db import utcnow, write_lock_released
from forum.errors import Invalid
from forum.extensions import db
from forum.i18n import known
from forum.members import notices, totp
from forum.members.models import Member, MemberSession
from forum.members.passwords import hash_password, password_problem, verify_password
from forum.members.services import set_sealed
from forum.members.sessions import end_all_sessions
from forum.security import audit

MAX_NAME = 120
MAX_EXPERTISE = 2000
MAX_LANGUAGES = 200


@dataclass(frozen=True)
class ProfileChange:
    """The fields of a profile a member edits themselves."""

    name: str
    country: str
    expertise: str
    languages: str
    timezone: str
    contact_point_countries: Sequence[str]
    is_email_notifications: bool
    locale: str = ""


def update_profile(member: Member, change: ProfileChange) -> None:
    """Validate and save a member's own profile."""
    name = " ".join(change.name.split())
    if not name:
        raise Invalid(_("Please give your name."))
    if len(name) > MAX_NAME:
        raise Invalid(_("Please keep your name under %(n)s characters.", n=MAX_NAME))
    country = change.country.strip().upper()
    if country and not is_country(country):
        raise Invalid(_("Choose your country from the list."))
    if not is_time_zone(change.timezone):
        raise Invalid(_("Choose a time zone from the list, such as Europe/Brussels."))
    points = sorted({c.strip().upper() for c in change.contact_point_countries if c.strip()})
    unknown = [c for c in points if not is_country(c)]
    if unknown:
        raise Invalid(_("Contact point countries must be chosen from the list."))
    if len(change.expertise) > MAX_EXPERTISE:
        raise Invalid(_("Please keep your expertise under %(n)s characters.", n=MAX_EXPERTISE))
    if len(change.languages) > MAX_LANGUAGES:
        raise Invalid(_("Please keep your languages under %(n)s characters.", n=MAX_LANGUAGES))
    if name != member.display_name:
        set_sealed(member, "name", name)
    member.country = country
    member.expertise = change.expertise.strip()
    member.languages = change.languages.strip()
    member.timezone = change.timezone
    member.contact_point_countries = ",".join(points)
    member.is_email_notifications = change.is_email_notifications
    member.locale = known(change.locale) or ""
    audit.record("profile.updated", actor=member, target_type="member", target_id=member.id)
    db.session.flush()


@dataclass(frozen=True)
class PasswordChange:
    """A password change worked out without writing: every Argon2id computation done."""

    current_ok: bool
    problem: str | None = None
    new_hash: str | None = None


def prepare_password_change(member: Member, *, current: str, new: str) -> PasswordChange:
    """Check the current password and the new one and hash the new one; writes nothing.

    Kept free of writes so the caller runs the hashes (about 0.1 s each) without holding the
    database's write lock.
    """
    if not verify_password(member.password_hash, current):
        return PasswordChange(current_ok=False)
    problem = password_problem(new, user_inputs=(member.display_name, member.email))
    if problem is None and verify_password(member.password_hash, new):
        problem = _("Choose a password different from your current one.")
    if problem:
        return PasswordChange(current_ok=True, problem=problem)
    return PasswordChange(current_ok=True, new_hash=hash_password(new))


def apply_password_change(
    member: Member, change: PasswordChange, *, keep: MemberSession | None
) -> int:
    """Write a prepared password change; ends every other session. Invalid when refused."""
    if not change.current_ok:
        audit.record("reauth.failed", actor=member, target_type="member", target_id=member.id)
        raise Invalid(_("Your current password is not right."), field="current")
    if change.problem or change.new_hash is None:
        raise Invalid(change.problem or _("Choose a new password."), field="new")
    return set_password_hash(member, change.new_hash, reason="password_changed", keep=keep)


def set_password_hash(
    member: Member, new_hash: str, *, reason: str, keep: MemberSession | None = None
) -> int:
    """Store a new password hash (made beforehand), end the other sessions, tell the member."""
    member.password_hash = new_hash
    member.password_changed_at = utcnow()
    ended = end_all_sessions(member, reason, keep=keep)
    audit.record(
        "password.changed",
        actor=member,
        target_type="member",
        target_id=member.id,
        count=ended,
        reason=reason,
    )
    notices.send(member, "password_changed")
    db.session.flush()
    return ended


def change_password(member: Member, *, current: str, new: str, keep: MemberSession | None) -> int:
    """Change the password (the current one is required); ends every other session.

    The Argon2id checks and the new hash run holding no write lock."""
    with write_lock_released():
        change = prepare_password_change(member, current=current, new=new)
    return apply_password_change(member, change, keep=keep)


def begin_factor_reset(member: Member) -> str:
    """Start enrolling a new authenticator: a new secret, kept sealed until confirmed."""
    secret = totp.open_secret(member, "totp_pending")
    if secret is None:
        secret = totp.new_secret()
        totp.seal_secret(member, secret, "totp_pending")
        db.session.flush()
    return secret


def pending_factor(member: Member) -> str | None:
    """The secret being enrolled, if a reset is under way."""
    return totp.open_secret(member, "totp_pending")


def needs_enrolment(member: Member) -> bool:
    """True when the member has no authenticator (a coordinator reset it): enrol at sign-in."""
    return member.totp_secret_sealed is None


def confirm_factor_reset(member: Member, code: str, *, keep: MemberSession | None) -> list[str]:
    """Switch to the new authenticator once its code is right; new recovery codes, other sessions end."""
    secret = totp.open_secret(member, "totp_pending")
    if secret is None:
        raise Invalid(_("Start again: there is no new authenticator waiting to be confirmed."))
    step = totp.matching_step(secret, code)
    if step is None:
        raise Invalid(_("That code is not right. Type the six digits your app shows now."))
    totp.seal_secret(member, secret)
    member.totp_pending_sealed = None
    # A fresh secret has its own steps; codes of the old one are useless from now on.
    member.totp_last_step = step
    codes = totp.new_recovery_codes(member)
    ended = end_all_sessions(member, "factor_reset", keep=keep)
    audit.record(
        "second_factor.reset", actor=member, target_type="member", target_id=member.id, count=ended
    )
    notices.send(member, "factor_reset")
    db.session.flush()
    return codes


def new_recovery_codes(member: Member) -> list[str]:
    """Replace the member's recovery codes (the old ones stop working)."""
    codes = totp.new_recovery_codes(member)
    audit.record("recovery_codes.renewed", actor=member, target_type="member", target_id=member.id)
    return codes


def session_timeouts() -> tuple[int, int]:
    """Idle minutes and absolute hours of a session, for the sessions page."""
    settings = current_app.config["EXCHANGE"]["security"]
    return settings["session_idle_minutes"], settings["session_absolute_hours"]


def end_other_sessions(member: Member, *, keep: MemberSession | None) -> int:
    """Sign out every other browser of the member, audited; how many sessions ended."""
    ended = end_all_sessions(member, "signed_out_elsewhere", keep=keep)
    audit.record(
        "sessions.ended", actor=member, target_type="member", target_id=member.id, count=ended
    )
    return ended
