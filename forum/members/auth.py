"""Signing in: the password step, then the second factor. Rate limits are decided by the view
layer before any of this runs, so a flood of guesses never reaches the Argon2id hash."""

from __future__ import annotations

from dataclasses import dataclass

from forum.db import utcnow, write_lock_released
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.members import account, notices, totp
from forum.members.models import Member
from forum.members.passwords import hash_password, needs_rehash, verify_password
from forum.members.services import find_member_by_email
from forum.members.sessions import end_current_session
from forum.security import audit

GENERIC_FAILURE = _l("That e-mail address and password do not match an account.")
CODE_FAILURE = _l(
    "That code is not right, or it was used already. Try the next code from your app."
)


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of a password check, made without writing anything."""

    member_id: str | None
    ok: bool
    # A fresh hash when the stored one used older parameters (made here, outside any lock).
    new_hash: str | None = None


def verify_credentials(email: str, password: str) -> PasswordCheck:
    """Check an address and password (same cost either way); reads only, writes nothing.

    Kept free of writes so the caller can run the Argon2id hash (about 0.1 s) without holding
    the database's write lock.
    """
    member = find_member_by_email(email) if email.strip() else None
    stored = member.password_hash if member is not None else ""
    ok = verify_password(stored, password)
    new_hash = hash_password(password) if ok and needs_rehash(stored) else None
    return PasswordCheck(member.id if member is not None else None, ok, new_hash)


def record_password_step(check: PasswordCheck, *, ip_prefix: str = "") -> Member | None:
    """Audit the password step; the active member when it succeeded, else None."""
    member = db.session.get(Member, check.member_id) if check.member_id else None
    if check.ok and member is not None and member.status == "active":
        if check.new_hash is not None:
            member.password_hash = check.new_hash
        audit.record("sign_in.password_ok", actor=member, target_type="member", target_id=member.id)
        return member
    reason = "password" if member is not None else "unknown_address"
    if check.ok and member is not None:
        reason = member.status
    audit.record(
        "sign_in.failed",
        target_type="member" if member is not None else None,
        target_id=member.id if member is not None else None,
        reason=reason,
        ip_prefix=ip_prefix,
    )
    return None


def check_password(email: str, password: str, *, ip_prefix: str = "") -> Member | None:
    """The active member with this address and password, or None; audited either way."""
    return record_password_step(verify_credentials(email, password), ip_prefix=ip_prefix)


def check_second_factor(member: Member, code: str, *, ip_prefix: str = "") -> str | None:
    """ "totp" or "recovery" when the code is accepted (once only), None otherwise."""
    method: str | None = None
    cleaned = code.strip()
    if sum(ch.isdigit() for ch in cleaned) == 6 and len(cleaned.replace(" ", "")) == 6:
        method = "totp" if totp.verify_totp(member, cleaned) else None
    elif cleaned:
        method = "recovery" if totp.use_recovery_code(member, cleaned) else None
    if method is None:
        audit.record(
            "sign_in.failed",
            actor=None,
            target_type="member",
            target_id=member.id,
            reason="second_factor",
            ip_prefix=ip_prefix,
        )
        return None
    member.last_sign_in_at = utcnow()
    audit.record("sign_in", actor=member, target_type="member", target_id=member.id, method=method)
    if method == "recovery":
        audit.record(
            "recovery_code.used",
            actor=member,
            target_type="member",
            target_id=member.id,
            count=totp.recovery_codes_left(member),
        )
    db.session.flush()
    return method


def record_rate_limited(scope: str, *, member_id: str | None, ip_prefix: str) -> None:
    """Audit a lockout: too many attempts at a sign-in step."""
    audit.record(
        "sign_in.locked_out",
        target_type="member" if member_id else None,
        target_id=member_id,
        kind=scope,
        ip_prefix=ip_prefix,
    )


def password_matches(member: Member, password: str) -> bool:
    """Re-entered password check before a sensitive change; reads only, writes nothing."""
    return verify_password(member.password_hash, password)


def record_reauth(member: Member, ok: bool) -> None:
    """Audit a password re-entry, right or wrong."""
    audit.record(
        "reauth" if ok else "reauth.failed",
        actor=member,
        target_type="member",
        target_id=member.id,
    )


def needs_code_to_confirm(member: Member) -> bool:
    """Whether confirming who one is also asks for a code (every member with an authenticator)."""
    return member.totp_secret_sealed is not None


def code_confirms(member: Member, code: str | None) -> bool:
    """The second half of a re-authentication: a fresh authenticator code, when one is set up."""
    if not needs_code_to_confirm(member):
        return True
    return bool(code) and totp.verify_totp(member, (code or "").replace(" ", ""))


def password_step(email: str, password: str, *, ip_prefix: str = "") -> Member | None:
    """Sign-in step one: the active member with this address and password, or None; audited
    either way. The Argon2id hash runs holding no write lock. A member whose authenticator a
    coordinator reset gets a new secret to enrol at the next step."""
    with write_lock_released():
        check = verify_credentials(email, password)
    member = record_password_step(check, ip_prefix=ip_prefix)
    if member is not None and account.needs_enrolment(member):
        account.begin_factor_reset(member)  # the secret to enrol, sealed, shown on the next page
    return member


def reauthenticate(member: Member, password: str, code: str | None) -> bool:
    """Whether the re-entered password (and code, when one is set up) are right; audited."""
    with write_lock_released():
        ok = password_matches(member, password)
    ok = ok and code_confirms(member, code)
    record_reauth(member, ok)
    return ok


def enrol_at_sign_in(member: Member, code: str) -> list[str]:
    """Sign-in for a member whose authenticator was reset: confirm the new one, count the
    sign-in; the new recovery codes are returned to be shown once."""
    codes = account.confirm_factor_reset(member, code, keep=None)
    member.last_sign_in_at = utcnow()
    audit.record(
        "sign_in", actor=member, target_type="member", target_id=member.id, method="enrolment"
    )
    notices.send(member, "factor_reset")
    return codes


def sign_out(member: Member) -> None:
    """End this browser's server session, audited."""
    end_current_session("logout")
    audit.record("sign_out", actor=member, target_type="member", target_id=member.id)
