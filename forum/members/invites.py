"""Invitations: the only way into the Exchange. Tokens are random (256 bits), stored only as a
SHA-256, single use, bound to the invited address (sealed, found by a blind index), expiring and
revocable. The invite e-mail goes through the outbox with a sealed address and a sealed link."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any, cast

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from forum.crypto import blind_index, envelope
from forum.crypto.models import DataKey
from forum.db import new_id, utcnow
from forum.errors import Invalid
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.members.mail import email_text
from forum.members.models import ROLES, Invite, Member
from forum.members.services import find_member_by_email, get_or_create_organisation
from forum.notify.outbox import enqueue_external
from forum.security import audit

INVITE_INDEX = "invite.email"
TOKEN_BYTES = 32


class InviteStillOpen(Invalid):
    """An open invitation to the address exists; sending another would withdraw its link."""


REASONS = {
    "used": _l(
        "This invitation has already been used. Each invitation works once; "
        "if you already registered, sign in instead."
    ),
    "revoked": _l(
        "This invitation was withdrawn by a coordinator. Ask them for a new one if you "
        "expected to join."
    ),
    "expired": _l(
        "This invitation has expired. Ask the coordinator who invited you for a new one."
    ),
    "unknown": _l(
        "This invitation link is not valid. Check that you opened the whole link from "
        "your invitation e-mail."
    ),
}


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of an invite token: the only form in which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite_email_index(address: str) -> bytes:
    """The blind index of an invited address."""
    return blind_index(INVITE_INDEX, address)


def normalise_email(address: str) -> str:
    """A syntactically valid address (domain lower-cased), or Invalid in plain words."""
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(_("Please give a valid e-mail address, such as name@example.org.")) from None
    return str(result.normalized)


def invite_link(token: str) -> str:
    """The absolute link that redeems an invite (built from app.base_url)."""
    base = current_app.config["EXCHANGE"]["app"]["base_url"].rstrip("/")
    return f"{base}/invite/{token}"


def create_invite(
    email: str,
    *,
    role: str = "member",
    organisation_name: str | None = None,
    inviter: Member | None = None,
    sponsor: Member | None = None,
    replace_open: bool = True,
) -> tuple[Invite, str]:
    """Invite an address; returns the invite and its token.

    Earlier open invites to the address are withdrawn (audited as replaced); with
    replace_open=False an open one raises InviteStillOpen instead, so a person can confirm.
    The invite e-mail is queued in the outbox in the same transaction.
    """
    address = normalise_email(email)
    if role not in ROLES:
        raise Invalid(_("An invitation is for the role coordinator or member."))
    if find_member_by_email(address) is not None:
        raise Invalid(_("Someone with this e-mail address is already a member."))
    organisation = None
    if organisation_name and organisation_name.strip():
        organisation = get_or_create_organisation(organisation_name)
    now = utcnow()
    index = invite_email_index(address)
    earlier = open_invites_to(address)
    if earlier and not replace_open:
        raise InviteStillOpen(
            _(
                "An invitation to this address, sent %(date)s at %(time)s UTC, "
                "is still open. A new invitation stops the earlier link from working: tick the box "
                "below to send it anyway.",
                date=earlier[0].created_at.strftime("%d %b %Y"),
                time=earlier[0].created_at.strftime("%H:%M"),
            )
        )
    ttl = current_app.config["EXCHANGE"]["security"]["invite_ttl_hours"]
    key = envelope.new_data_key("invite")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite = Invite(
        id=new_id(),
        dek_id=key.id,
        token_hash=token_hash(token),
        email_index=index,
        role=role,
        organisation=organisation,
        inviter_id=inviter.id if inviter else None,
        sponsor_id=sponsor.id if sponsor else (inviter.id if inviter else None),
        created_at=now,
        expires_at=now + timedelta(hours=ttl),
    )
    invite.email_sealed = envelope.seal(key, invite.context("email"), address)
    db.session.add(invite)
    for old in earlier:
        _withdraw(old, actor=inviter, reason="replaced", invite_id=invite.id)
    db.session.flush()
    # In the language of the request that sends it (the invitee has no profile yet).
    subject, body = email_text("invite", ttl=ttl)
    enqueue_external(
        idempotency_key=f"invite:{invite.id}:email",
        channel="email",
        kind="invite",
        subject=subject,
        body=body,
        link="/join",
        recipient=address,
        recipient_key=key,
        secret_link=invite_link(token),
    )
    audit.record(
        "invite.created", actor=inviter, target_type="invite", target_id=invite.id, role=role
    )
    return invite, token


def open_invites_to(address: str) -> list[Invite]:
    """The invites to an address whose links still work, newest first."""
    return list(
        db.session.scalars(
            select(Invite)
            .where(
                Invite.email_index == invite_email_index(normalise_email(address)),
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
                Invite.expires_at > utcnow(),
            )
            .order_by(Invite.created_at.desc())
        )
    )


def find_invite(token: str) -> Invite | None:
    """The invite a token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(select(Invite).where(Invite.token_hash == token_hash(token)))


def invite_problem(invite: Invite | None) -> str | None:
    """Why an invite cannot be used, in plain words; None when it is open."""
    if invite is None:
        return str(REASONS["unknown"])
    state = invite.state(utcnow())
    return None if state == "open" else str(REASONS[state])


def revoke_invite(invite: Invite, *, actor: Member) -> None:
    """Withdraw an open invite; a used one cannot be revoked."""
    if invite.used_at is not None:
        raise Invalid(_("This invitation has already been used; it cannot be withdrawn."))
    if invite.revoked_at is None:
        _withdraw(invite, actor=actor)
    db.session.flush()


def _withdraw(invite: Invite, *, actor: Member | None, **details: str) -> None:
    invite.revoked_at = utcnow()
    invite.pending_name_sealed = None
    invite.pending_password_sealed = None
    invite.pending_totp_sealed = None
    audit.record(
        "invite.revoked", actor=actor, target_type="invite", target_id=invite.id, **details
    )


def claim_invite(invite: Invite, member: Member) -> bool:
    """Mark an invite used by a new member, atomically: False when it was used or revoked meanwhile."""
    now = utcnow()
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(Invite)
            .where(
                Invite.id == invite.id,
                Invite.used_at.is_(None),
                Invite.revoked_at.is_(None),
                Invite.expires_at > now,
            )
            .values(
                used_at=now,
                member_id=member.id,
                pending_name_sealed=None,
                pending_password_sealed=None,
                pending_totp_sealed=None,
            )
            .execution_options(synchronize_session="fetch")
        ),
    )
    return result.rowcount == 1


def list_invites(limit: int = 200) -> list[Invite]:
    """The newest invites, for the coordinators' list."""
    return list(
        db.session.scalars(
            select(Invite)
            .where(Invite.purged_at.is_(None))
            .order_by(Invite.created_at.desc())
            .limit(limit)
        )
    )


def get_invite(invite_id: str) -> Invite | None:
    """An invite by id."""
    return db.session.get(Invite, invite_id)


def purge_old_invites(older_than_days: int = 30, batch: int = 500) -> int:
    """Shred the keys of invites closed (used, revoked or expired) long ago: their addresses go."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    invites = db.session.scalars(
        select(Invite)
        .where(
            Invite.purged_at.is_(None),
            (Invite.expires_at < cutoff) | (Invite.used_at < cutoff) | (Invite.revoked_at < cutoff),
        )
        .limit(batch)
    ).all()
    for invite in invites:
        key = db.session.get(DataKey, invite.dek_id)
        if key is not None:
            envelope.shred(key)
        invite.pending_name_sealed = None
        invite.pending_password_sealed = None
        invite.pending_totp_sealed = None
        invite.purged_at = utcnow()
    db.session.flush()
    return len(invites)
