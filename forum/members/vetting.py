"""Nominations: a member proposes someone, coordinators vet them, approval sends the invite."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.errors import Invalid, NotAllowed
from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.members import policy
from forum.members.invites import create_invite, invite_email_index, normalise_email
from forum.members.models import Invite, Member, Nomination
from forum.members.services import email_index, find_member_by_email
from forum.members.sponsors import (
    record_sponsor,
    sponsor_organisations,
    sponsors_required,
)
from forum.notify.outbox import notify
from forum.security import audit, limits

MAX_REASON = 2000


def nominate(
    nominator: Member, *, email: str, name: str, organisation_name: str, reason: str
) -> Nomination:
    """Put someone in the vetting queue; the nominator is their first sponsor.

    Whether the address is already a member's, or already nominated, is not looked up here:
    the answer and the work are the same either way, so the form reveals nothing about who is
    a member. Coordinators see such duplicates in the vetting queue (duplicates()).
    """
    if not policy.can_nominate(nominator):
        raise NotAllowed()
    address = normalise_email(email)
    name = " ".join(name.split())
    reason = reason.strip()
    if not name:
        raise Invalid(_("Please give the name of the person you nominate."))
    if not reason:
        raise Invalid(_("Please say briefly why this person should join the network."))
    if len(reason) > MAX_REASON:
        raise Invalid(_("Please keep the reason under %(n)s characters.", n=MAX_REASON))
    if email_index(address) == nominator.email_index:
        raise Invalid(_("You cannot nominate yourself."))
    limits.check(
        "nominations_per_day",
        nominator,
        author=Nomination.nominator_id,
        created=Nomination.created_at,
        error=Invalid,
    )
    key = envelope.new_data_key("nomination")
    nomination_id = new_id()

    def sealed(column: str, value: str) -> bytes:
        return envelope.seal(key, envelope.context("nomination", nomination_id, column), value)

    nomination = Nomination(
        id=nomination_id,
        dek_id=key.id,
        nominator_id=nominator.id,
        email_index=invite_email_index(address),
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
    record_sponsor(nomination, nominator)
    return nomination


def pending_nominations() -> list[Nomination]:
    """The vetting queue, oldest first."""
    return list(
        db.session.scalars(
            select(Nomination).where(Nomination.status == "pending").order_by(Nomination.created_at)
        )
    )


def duplicates(nomination: Nomination) -> tuple[Member | None, list[Nomination]]:
    """For coordinators: the member who already has the nominee's address, and other pending
    nominations of the same address (the nomination form does not say so to the nominator)."""
    member = find_member_by_email(nomination.email)
    others = db.session.scalars(
        select(Nomination)
        .where(
            Nomination.email_index == nomination.email_index,
            Nomination.status == "pending",
            Nomination.id != nomination.id,
        )
        .order_by(Nomination.created_at)
    )
    return member, list(others)


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
    if not policy.can_manage_members(coordinator):
        raise NotAllowed()
    if nomination.status != "pending":
        raise Invalid(_("This nomination has already been decided."))
    nomination.status = status
    nomination.decided_at = utcnow()
    nomination.decided_by_id = coordinator.id


def approve(coordinator: Member, nomination: Nomination) -> tuple[Invite, str]:
    """Approve a nomination that sponsors of enough organisations vouched for: invite the nominee
    (the nominator is recorded on the invite as their sponsor; every sponsor stays recorded)."""
    if not policy.can_manage_members(coordinator):
        raise NotAllowed()
    have, need = len(sponsor_organisations(nomination)), sponsors_required()
    if nomination.status == "pending" and have < need:
        raise Invalid(
            _(
                "This nomination needs sponsors from %(need)s different organisations and has "
                "%(have)s; members vouch for nominees on the Nominations page.",
                need=need,
                have=have,
            )
        )
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
    _tell_nominator(
        nomination,
        _l(
            "Your nomination of %(name)s was approved; an invitation is on its way.",
            name=nomination.name,
        ),
    )
    db.session.flush()
    return invite, token


def decline(coordinator: Member, nomination: Nomination) -> None:
    """Decline a nomination; the nominee is not contacted."""
    _decide(coordinator, nomination, "declined")
    audit.record(
        "nomination.declined", actor=coordinator, target_type="nomination", target_id=nomination.id
    )
    _tell_nominator(
        nomination,
        _l("Your nomination of %(name)s was declined by the coordinators.", name=nomination.name),
    )
    db.session.flush()


def _tell_nominator(nomination: Nomination, text: Text) -> None:
    nominator = nomination.nominator
    if nominator.status != "active":
        return
    notify(
        [nominator],
        event_key=f"nomination:{nomination.id}:{nomination.status}",
        kind="nomination",
        text=text,
        key=nomination.dek_id,
        link="/nominate",
        channels=("inapp",),
    )


def my_nominations(member: Member, limit: int = 20) -> list[Nomination]:
    """The member's own latest nominations, newest first."""
    return list(
        db.session.scalars(
            select(Nomination)
            .where(Nomination.nominator_id == member.id)
            .order_by(Nomination.created_at.desc())
            .limit(limit)
        )
    )
