"""Registration through an invite: details and password first, then a confirmed TOTP enrolment.

Until the code is confirmed nothing but the invite row changes: the name, the password hash and
the TOTP secret being enrolled wait on it, sealed under the invite's key. The member is created
only when the invitee proves their authenticator works.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from forum.countries import time_zones
from forum.crypto import envelope
from forum.db import utcnow, write_lock_released
from forum.errors import Invalid
from forum.extensions import db
from forum.i18n import known
from forum.members import totp
from forum.members.invites import (
    claim_invite,
    invite_email_index,
    invite_problem,
    normalise_email,
)
from forum.members.models import Invite, Member
from forum.members.passwords import hash_password, password_problem
from forum.members.services import create_member, find_member_by_email
from forum.security import audit

MAX_NAME = 120


@dataclass(frozen=True)
class Enrolment:
    """What the invitee needs to set up their authenticator app."""

    secret: str
    uri: str
    qr_svg: str


def _require_open(invite: Invite) -> None:
    problem = invite_problem(invite)
    if problem:
        raise Invalid(problem)


def registration_problems(
    invite: Invite, *, email: str, name: str, password: str
) -> dict[str, str]:
    """Every problem with the invitee's details at once, by field (email, name, password).

    Reads only: the caller hashes the password afterwards, outside the write lock.
    """
    problems: dict[str, str] = {}
    address = ""
    try:
        address = normalise_email(email)
    except Invalid:
        problems["email"] = _("Please give the e-mail address this invitation was sent to.")
    if address and invite_email_index(address) != invite.email_index:
        problems["email"] = _(
            "This invitation was sent to a different e-mail address. Use the address the "
            "invitation was sent to."
        )
    elif address and find_member_by_email(address) is not None:
        problems["email"] = _(
            "Someone with this e-mail address is already a member; please sign in."
        )
    clean_name = " ".join(name.split())
    if not clean_name:
        problems["name"] = _("Please give your name.")
    elif len(clean_name) > MAX_NAME:
        problems["name"] = _("Please keep your name under %(n)s characters.", n=MAX_NAME)
    problem = password_problem(password, user_inputs=(clean_name, address))
    if problem:
        problems["password"] = problem
    return problems


def start_registration(
    invite: Invite,
    *,
    email: str,
    name: str,
    password: str | None = None,
    password_hash: str | None = None,
) -> None:
    """Check the invitee's details against the invite and keep them (sealed) on the invite.

    Pass `password_hash` (made beforehand, outside the write lock) or `password`.
    """
    _require_open(invite)
    problems = registration_problems(
        invite, email=email, name=name, password=password if password is not None else "x" * 64
    )
    if password is None:
        problems.pop("password", None)
    if problems:
        raise Invalid(next(iter(problems.values())))
    if password_hash is None:
        password_hash = hash_password(password or "")
    name = " ".join(name.split())
    invite.pending_name_sealed = envelope.seal(invite.dek_id, invite.context("pending_name"), name)
    invite.pending_password_sealed = envelope.seal(
        invite.dek_id, invite.context("pending_password"), password_hash
    )
    invite.pending_totp_sealed = envelope.seal(
        invite.dek_id, invite.context("pending_totp"), totp.new_secret()
    )
    db.session.flush()


def has_pending_details(invite: Invite) -> bool:
    """True once the invitee has given valid details and may enrol their authenticator."""
    return invite.pending_totp_sealed is not None and invite.pending_name_sealed is not None


def enrolment(invite: Invite) -> Enrolment:
    """The secret being enrolled, its otpauth URI and its QR code."""
    if invite.pending_totp_sealed is None:
        raise Invalid(_("Please fill in your details first."))
    secret = envelope.open_text(invite.pending_totp_sealed, invite.context("pending_totp"))
    issuer = current_app.config["EXCHANGE"]["app"]["name"]
    uri = totp.provisioning_uri(secret, invite.email, issuer)
    return Enrolment(secret=secret, uri=uri, qr_svg=totp.qr_svg(uri))


def complete_registration(
    invite: Invite, code: str, *, locale: str = "", timezone: str = "UTC"
) -> tuple[Member, list[str]]:
    """Create the member once the first TOTP code is right; returns the ten recovery codes.

    `locale` is the language chosen on the join form ("" follows the browser); `timezone` the
    zone it offered from the browser (one of time_zones(), else UTC)."""
    _require_open(invite)
    if not has_pending_details(invite) or invite.pending_totp_sealed is None:
        raise Invalid(_("Please fill in your details first."))
    secret = envelope.open_text(invite.pending_totp_sealed, invite.context("pending_totp"))
    step = totp.matching_step(secret, code)
    if step is None:
        raise Invalid(
            _(
                "That code is not right. Check that your phone's clock is correct and type the "
                "six digits your app shows now."
            )
        )
    assert invite.pending_name_sealed is not None and invite.pending_password_sealed is not None
    name = envelope.open_text(invite.pending_name_sealed, invite.context("pending_name"))
    password_hash = envelope.open_text(
        invite.pending_password_sealed, invite.context("pending_password")
    )
    member = create_member(
        email=invite.email,
        name=name,
        password_hash=password_hash,
        role=invite.role,
        organisation=invite.organisation,
        country=invite.organisation.country if invite.organisation else "",
        sponsor=invite.sponsor,
        timezone=timezone if timezone in time_zones() else "UTC",
    )
    totp.seal_secret(member, secret)
    member.locale = known(locale) or ""
    member.totp_last_step = step
    member.last_sign_in_at = utcnow()
    from_invite = invite.id
    # An atomic claim: of two browsers finishing the same invite at once, one wins; the caller
    # rolls back the other (its member row included) on the Invalid.
    if not claim_invite(invite, member):
        db.session.refresh(invite)
        raise Invalid(invite_problem(invite) or _("This invitation has already been used."))
    db.session.refresh(invite)
    codes = totp.new_recovery_codes(member)
    audit.record(
        "member.registered",
        actor=member,
        target_type="member",
        target_id=member.id,
        invite_id=from_invite,
        role=member.role,
    )
    return member, codes


def register_details(invite_id: str, *, email: str, name: str, password: str) -> Invite | None:
    """Registration step one for checked details: hash the password holding no write lock,
    then keep the details on the invite; None when the invite went away meanwhile."""
    with write_lock_released():
        password_hash = hash_password(password)
    invite = db.session.get(Invite, invite_id)
    if invite is None:
        return None
    start_registration(invite, email=email, name=name, password_hash=password_hash)
    return invite
