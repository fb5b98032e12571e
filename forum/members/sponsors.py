"""Sponsors of a nomination: members who vouch for a nominee, from different organisations.

Trust networks such as FIRST admit a new member only when people of two different
organisations vouch for them. Here the nominator is the first sponsor; other active members
vouch on the Nominations page; a coordinator can approve once sponsors from
vetting.sponsors_required different organisations are recorded (who, organisation, when).

What a sponsor sees of a nomination: the nominee's name and organisation as the nominator
wrote them, who nominated them and when, and the sponsors so far. Never the nominee's address
and never the nominator's reason (the form promises that only coordinators read it).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from forum.db import utcnow
from forum.errors import Invalid, NotAllowed
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.members import policy
from forum.members.models import Member, Nomination
from forum.members.services import email_index
from forum.members.vetting_models import NominationSponsor
from forum.notify.outbox import notify
from forum.security import audit


def sponsors_required() -> int:
    """How many different organisations must vouch (vetting.sponsors_required)."""
    return int(current_app.config["EXCHANGE"]["vetting"]["sponsors_required"])


def sponsors(nomination: Nomination) -> list[NominationSponsor]:
    """Who vouched for the nominee, first (the nominator) to last."""
    return list(
        db.session.scalars(
            select(NominationSponsor)
            .where(NominationSponsor.nomination_id == nomination.id)
            .order_by(NominationSponsor.created_at, NominationSponsor.id)
        )
    )


def sponsor_organisations(nomination: Nomination) -> set[str]:
    """The different organisations the sponsors vouched from (members without one do not count)."""
    return {s.organisation_id for s in sponsors(nomination) if s.organisation_id}


def is_ready(nomination: Nomination) -> bool:
    """Whether enough organisations vouched for a coordinator to approve."""
    return len(sponsor_organisations(nomination)) >= sponsors_required()


def record_sponsor(nomination: Nomination, member: Member) -> NominationSponsor:
    """Record a member's vouch, with the organisation they belong to now; audited."""
    sponsor = NominationSponsor(
        nomination_id=nomination.id,
        member_id=member.id,
        organisation_id=member.organisation_id,
        created_at=utcnow(),
    )
    db.session.add(sponsor)
    db.session.flush()
    audit.record(
        "nomination.vouched",
        actor=member,
        target_type="nomination",
        target_id=nomination.id,
        organisation_id=member.organisation_id,
    )
    return sponsor


def _is_nominee(member: Member, nomination: Nomination) -> bool:
    return email_index(nomination.email) == member.email_index


def vouch_problem(member: Member, nomination: Nomination) -> str | None:
    """Why this member cannot vouch for this nominee, in plain words; None when they can."""
    if nomination.status != "pending":
        return _("This nomination has already been decided.")
    if _is_nominee(member, nomination):
        return _("You cannot vouch for yourself.")
    recorded = sponsors(nomination)
    if any(s.member_id == member.id for s in recorded):
        return _("You have already vouched for this person.")
    if member.organisation_id is None:
        return _(
            "A vouch counts for an organisation, and your profile has none; ask a coordinator "
            "to add your organisation first."
        )
    if any(s.organisation_id == member.organisation_id for s in recorded):
        return _(
            "Someone from your organisation has already vouched for this person; the next "
            "sponsor must come from another organisation."
        )
    return None


def vouch(member: Member, nomination: Nomination) -> NominationSponsor:
    """Vouch for a nominee as a sponsor (once, never for oneself, one per organisation)."""
    if not policy.can_nominate(member):
        raise NotAllowed()
    problem = vouch_problem(member, nomination)
    if problem:
        raise Invalid(problem)
    sponsor = record_sponsor(nomination, member)
    if is_ready(nomination):
        coordinators = db.session.scalars(
            select(Member).where(Member.role == "coordinator", Member.status == "active")
        )
        notify(
            list(coordinators),
            event_key=f"nomination:{nomination.id}:ready",
            kind="nomination",
            text=_l(
                "The nomination of %(name)s has its sponsors and awaits your decision.",
                name=nomination.name,
            ),
            key=nomination.dek_id,
            link="/admin/vetting",
            channels=("inapp",),
        )
    return sponsor


def awaiting_sponsors(viewer: Member) -> list[Nomination]:
    """Pending nominations that still need sponsors, oldest first (not the viewer's own)."""
    pending = db.session.scalars(
        select(Nomination).where(Nomination.status == "pending").order_by(Nomination.created_at)
    )
    return [n for n in pending if not is_ready(n) and not _is_nominee(viewer, n)]
