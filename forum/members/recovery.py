"""Account recovery. "Forgot your password?": a single-use, hashed, 30-minute e-mailed link plus
the authenticator code (or a recovery code) sets a new password and ends every session. A member
who lost both is recovered only by a coordinator, after re-vetting: the coordinator records who
vouched, the password and authenticator are cleared, and a single-use setup link is e-mailed;
the member sets a password with it and enrols a new authenticator at the next sign-in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, select, update

from forum.db import utcnow, write_lock_released
from forum.errors import Invalid
from forum.extensions import db
from forum.i18n import member_locale, speaking
from forum.lazytext import lazy_gettext as _l
from forum.members import notices, totp
from forum.members.account import set_password_hash
from forum.members.mail import email_text
from forum.members.models import Member, RecoveryCode, RecoveryLink
from forum.members.passwords import hash_password, password_problem
from forum.members.services import find_member_by_email
from forum.members.sessions import end_all_sessions
from forum.notify.outbox import enqueue_external
from forum.security import audit

RESET_MINUTES = 30
TOKEN_BYTES = 32
LINK_PROBLEM = _l(
    "This link does not work any more: it was used, or it expired. Ask for a new one."
)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a recovery token: the only form in which it is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _link(token: str) -> str:
    base = current_app.config["EXCHANGE"]["app"]["base_url"].rstrip("/")
    return f"{base}/sign-in/reset/{token}"


def _issue(member: Member, kind: str, ttl: timedelta, **who: str | None) -> RecoveryLink:
    now = utcnow()
    # One open link per member: a new one closes the earlier ones.
    db.session.execute(
        update(RecoveryLink)
        .where(RecoveryLink.member_id == member.id, RecoveryLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = RecoveryLink(
        member_id=member.id,
        kind=kind,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + ttl,
        **who,
    )
    db.session.add(link)
    db.session.flush()
    minutes = int(ttl.total_seconds() // 60)
    kind_of_mail = "password_reset" if kind == "reset" else "account_setup"
    with speaking(member_locale(member)):  # in the member's language, not the coordinator's
        when = (
            ngettext("%(num)d minute", "%(num)d minutes", minutes)
            if minutes < 120
            else ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
        )
        subject, body = email_text(kind_of_mail, when=when)
    enqueue_external(
        idempotency_key=f"recovery:{link.id}:email",
        channel="email",
        kind=kind_of_mail,
        subject=subject,
        body=body,
        link="/sign-in/reset",
        member_id=member.id,
        recipient_key=member.dek_id,
        secret_link=_link(token),
    )
    return link


def request_reset(address: str) -> None:
    """Forgot your password: e-mail a reset link if an active member has this address.

    The caller answers the same whether or not the address exists.
    """
    try:
        member = find_member_by_email(address) if address.strip() else None
    except Invalid:
        member = None
    if member is None or member.status != "active":
        audit.record("password.reset_requested", reason="unknown_address")
        return
    _issue(member, "reset", timedelta(minutes=RESET_MINUTES))
    audit.record("password.reset_requested", actor=None, target_type="member", target_id=member.id)


def find_link(token: str) -> RecoveryLink | None:
    """The open recovery link a token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    link = db.session.scalar(
        select(RecoveryLink).where(RecoveryLink.token_hash == token_hash(token))
    )
    if link is None or not link.is_open(utcnow()) or link.member.status != "active":
        return None
    changed = link.member.password_changed_at
    if changed is not None and changed > link.created_at:
        return None  # a password set since the link was sent closes it (ASVS: reset after change)
    return link


@dataclass(frozen=True)
class CodeCheck:
    """A second-factor answer checked without spending it: "totp" (with its step), "recovery"."""

    method: str | None
    step: int | None = None


def check_code(link: RecoveryLink, code: str) -> CodeCheck:
    """Check the authenticator or recovery code that must come with a reset link; reads only."""
    if link.kind == "setup":
        return CodeCheck("none")
    member = link.member
    cleaned = code.strip()
    secret = totp.open_secret(member)
    if (
        secret is not None
        and len(cleaned.replace(" ", "")) == 6
        and cleaned.replace(" ", "").isdigit()
    ):
        step = totp.matching_step(secret, cleaned)
        if step is not None and step > member.totp_last_step:
            return CodeCheck("totp", step)
        return CodeCheck(None)
    if cleaned and db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.member_id == member.id,
            RecoveryCode.code_hash == totp._recovery_hash(member, cleaned),
            RecoveryCode.used_at.is_(None),
        )
    ):
        return CodeCheck("recovery")
    return CodeCheck(None)


def complete_reset(link: RecoveryLink, check: CodeCheck, code: str, new_hash: str) -> Member:
    """Spend the link and the code, set the new password (hashed beforehand), end every session."""
    member = link.member
    if not link.is_open(utcnow()):
        raise Invalid(str(LINK_PROBLEM))
    spent = check.method == "none"
    if check.method == "totp" and check.step is not None:
        spent = totp.claim_step(member, check.step)
    elif check.method == "recovery":
        spent = totp.use_recovery_code(member, code)
    if not spent:
        audit.record("password.reset_failed", target_type="member", target_id=member.id)
        raise Invalid(_("That code is not right, or it was used already."))
    claimed = db.session.execute(
        update(RecoveryLink)
        .where(RecoveryLink.id == link.id, RecoveryLink.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        raise Invalid(str(LINK_PROBLEM))
    set_password_hash(member, new_hash, reason="password_reset")
    if check.method == "recovery":
        audit.record("recovery_code.used", actor=member, target_type="member", target_id=member.id)
        notices.send(member, "recovery_code_used")
    audit.record(
        "password.reset", actor=member, target_type="member", target_id=member.id, kind=link.kind
    )
    db.session.flush()
    return member


def coordinator_recovery(actor: Member, member: Member, voucher: Member) -> RecoveryLink:
    """Re-vetted recovery of a member who lost password and authenticator: clear both, end every
    session, record who vouched, and e-mail a single-use setup link."""
    if not actor.is_coordinator or actor.status != "active":
        raise Invalid(_("Only a coordinator can recover an account."), field="voucher")
    if member.status != "active":
        raise Invalid(_("Only an active member's account can be recovered."), field="voucher")
    if voucher.id in (actor.id, member.id) or voucher.status != "active":
        raise Invalid(
            _("Choose another active member who vouched for this person (not yourself, not them)."),
            field="voucher",
        )
    member.password_hash = ""  # no password opens the account until the setup link is used
    member.password_changed_at = utcnow()
    member.totp_secret_sealed = None
    member.totp_pending_sealed = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    ended = end_all_sessions(member, "account_recovered")
    ttl = timedelta(hours=current_app.config["EXCHANGE"]["security"]["invite_ttl_hours"])
    link = _issue(member, "setup", ttl, issued_by_id=actor.id, vouched_by_id=voucher.id)
    audit.record(
        "member.recovered",
        actor=actor,
        target_type="member",
        target_id=member.id,
        count=ended,
        reason="re-vetted",
    )
    notices.send(member, "factor_reset")
    db.session.flush()
    return link


def reset_problems(link: RecoveryLink, code: str, new: str) -> tuple[CodeCheck, dict[str, str]]:
    """Check a reset's code and new password: the code's check, and every problem by field."""
    member = link.member
    problems: dict[str, str] = {}
    check = check_code(link, code)
    if check.method is None:
        problems["code"] = _("That code is not right, or it was used already.")
    problem = password_problem(new, user_inputs=(member.display_name, member.email))
    if problem:
        problems["new"] = problem
    return check, problems


def reset_password(link_id: str, check: CodeCheck, code: str, new: str) -> Member:
    """Set the new password with the link (hashed holding no write lock), end every session."""
    with write_lock_released():
        new_hash = hash_password(new)
    link = db.session.get(RecoveryLink, link_id)
    if link is None:
        raise Invalid(str(LINK_PROBLEM))
    return complete_reset(link, check, code, new_hash)


def recover_member(actor: Member, member: Member, voucher_email: str) -> RecoveryLink:
    """A coordinator's re-vetted recovery, the voucher named by their e-mail address."""
    voucher = find_member_by_email(voucher_email)
    if voucher is None:
        raise Invalid(
            _("No member has that address; give the address of the member who vouched."),
            field="voucher",
        )
    return coordinator_recovery(actor, member, voucher)
