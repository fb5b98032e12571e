"""Nominations: a member proposes someone, coordinators vet them, approval sends the invite."""

from __future__ import annotations

from sqlalchemy import select

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members import policy
from forum.members.invites import create_invite, invite_email_index, normalise_email
from forum.members.models import Invite, Member, Nomination
from forum.members.services import MemberError, find_member_by_email
from forum.notify.outbox import notify
from forum.security import audit

MAX_REASON = 2000


def nominate(
    nominator: Member, *, email: str, name: str, organisation_name: str, reason: str
) -> Nomination:
    """Put someone in the vetting queue, vouched for by the nominator."""
    policy.require(policy.can_nominate(nominator))
    address = normalise_email(email)
    name = " ".join(name.split())
    reason = reason.strip()
    if not name:
        raise MemberError("Please give the name of the person you nominate.")
    if not reason:
        raise MemberError("Please say briefly why this person should join the network.")
    if len(reason) > MAX_REASON:
        raise MemberError(f"Please keep the reason under {MAX_REASON} characters.")
    if find_member_by_email(address) is not None:
        raise MemberError("Someone with this e-mail address is already a member.")
    index = invite_email_index(address)
    waiting = db.session.scalar(
        select(Nomination.id).where(Nomination.email_index == index, Nomination.status == "pending")
    )
    if waiting is not None:
        raise MemberError("This person has already been nominated and is waiting to be vetted.")
    key = envelope.new_data_key("nomination")
    nomination_id = new_id()

    def sealed(column: str, value: str) -> bytes:
        return envelope.seal(key, envelope.context("nomination", nomination_id, column), value)

    nomination = Nomination(
        id=nomination_id,
        dek_id=key.id,
        nominator_id=nominator.id,
        email_index=index,
        email_sealed=sealed("email", address),
        name_sealed=sealed("name", name),
        reason_sealed=sealed("reason", reason),
        organisation_name=" ".join(organisation_name.split())[:200],
        status="pending",
        created_at=utcnow(),
    )
    db.session.add(nomination)
    db.session.flush()
    audit.record(
        "nomination.created", actor=nominator, target_type="nomination", target_id=nomination.id
    )
    return nomination


def pending_nominations() -> list[Nomination]:
    """The vetting queue, oldest first."""
    return list(
        db.session.scalars(
            select(Nomination).where(Nomination.status == "pending").order_by(Nomination.created_at)
        )
    )


def recent_decisions(limit: int = 50) -> list[Nomination]:
    """Nominations decided lately, newest first."""
    return list(
        db.session.scalars(
            select(Nomination)
            .where(Nomination.status != "pending")
            .order_by(Nomination.decided_at.desc())
            .limit(limit)
        )
    )


def get_nomination(nomination_id: str) -> Nomination | None:
    """A nomination by id."""
    return db.session.get(Nomination, nomination_id)


def _decide(coordinator: Member, nomination: Nomination, status: str) -> None:
    policy.require(policy.can_manage_members(coordinator))
    if nomination.status != "pending":
        raise MemberError("This nomination has already been decided.")
    nomination.status = status
    nomination.decided_at = utcnow()
    nomination.decided_by_id = coordinator.id


def approve(coordinator: Member, nomination: Nomination) -> tuple[Invite, str]:
    """Approve a nomination: invite the nominee, recording the nominator as their sponsor."""
    _decide(coordinator, nomination, "approved")
    invite, token = create_invite(
        nomination.email,
        organisation_name=nomination.organisation_name or None,
        inviter=coordinator,
        sponsor=nomination.nominator,
    )
    nomination.invite_id = invite.id
    audit.record(
        "nomination.approved",
        actor=coordinator,
        target_type="nomination",
        target_id=nomination.id,
        invite_id=invite.id,
    )
    _tell_nominator(nomination, "approved; an invitation is on its way")
    db.session.flush()
    return invite, token


def decline(coordinator: Member, nomination: Nomination) -> None:
    """Decline a nomination; the nominee is not contacted."""
    _decide(coordinator, nomination, "declined")
    audit.record(
        "nomination.declined", actor=coordinator, target_type="nomination", target_id=nomination.id
    )
    _tell_nominator(nomination, "declined by the coordinators")
    db.session.flush()


def _tell_nominator(nomination: Nomination, outcome: str) -> None:
    nominator = nomination.nominator
    if nominator.status != "active":
        return
    notify(
        [nominator],
        event_key=f"nomination:{nomination.id}:{nomination.status}",
        kind="nomination",
        text=f"Your nomination of {nomination.name} was {outcome}.",
        key=nomination.dek_id,
        link="/nominate",
        channels=("inapp",),
    )
