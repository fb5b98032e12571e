"""Coordinators' management of members and organisations. Every action is audited."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from forum import drafts
from forum.countries import is_country
from forum.crypto import envelope
from forum.crypto.models import DataKey
from forum.db import utcnow
from forum.errors import Invalid, NotAllowed
from forum.extensions import db
from forum.members import notices, policy, reconfirm
from forum.members.models import ROLES, SECTORS, Member, Organisation, RecoveryCode
from forum.members.services import email_index, set_sealed
from forum.members.sessions import end_all_sessions
from forum.notify import preferences as notify_preferences
from forum.security import audit

REMOVED_NAME = "Former member"


def _active_coordinator_count() -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.role == "coordinator", Member.status == "active")
        )
        or 0
    )


def _refusals(doing: str) -> tuple[str, str]:
    """What a coordinator is told when `doing` (demote, suspend, remove) is refused: one's own
    account, or the last active coordinator (whole sentences, each translated on its own)."""
    if doing == "demote":
        return (
            _("You cannot demote your own account; ask another coordinator."),
            _("You cannot demote the last active coordinator."),
        )
    if doing == "suspend":
        return (
            _("You cannot suspend your own account; ask another coordinator."),
            _("You cannot suspend the last active coordinator."),
        )
    return (
        _("You cannot remove your own account; ask another coordinator."),
        _("You cannot remove the last active coordinator."),
    )


def _guard_self_and_last(actor: Member, member: Member, doing: str) -> None:
    if member.id == actor.id:
        raise Invalid(_refusals(doing)[0])
    if member.is_coordinator and _active_coordinator_count() <= 1:
        raise Invalid(_refusals(doing)[1])


def list_members(status: str | None = None) -> list[Member]:
    """Members that are not removed (or of one status), for the coordinators' list."""
    query = select(Member).order_by(Member.created_at)
    query = (
        query.where(Member.status == status) if status else query.where(Member.status != "removed")
    )
    return list(db.session.scalars(query))


def get_member(member_id: str) -> Member | None:
    """A member by id."""
    return db.session.get(Member, member_id)


def change_role(actor: Member, member: Member, role: str) -> None:
    """Make a member a coordinator or a member."""
    if not policy.can_manage_members(actor):
        raise NotAllowed()
    if role not in ROLES:
        raise Invalid(_("Choose coordinator or member."))
    if member.status == "removed":
        raise Invalid(_("This member has been removed."))
    if role == member.role:
        return
    if member.role == "coordinator":
        _guard_self_and_last(actor, member, "demote")
    previous, member.role = member.role, role
    # New rights or fewer: every open session starts again with the new role.
    end_all_sessions(member, "role_changed")
    audit.record(
        "member.role_changed",
        actor=actor,
        target_type="member",
        target_id=member.id,
        from_role=previous,
        to_role=role,
    )
    notices.send(member, "new_role")  # a content-free security e-mail (issue 9 item 17)
    db.session.flush()


def suspend(actor: Member, member: Member) -> int:
    """Suspend a member: their sessions end at once and they cannot sign in."""
    if not policy.can_manage_members(actor):
        raise NotAllowed()
    if member.status != "active":
        raise Invalid(_("Only an active member can be suspended."))
    _guard_self_and_last(actor, member, "suspend")
    member.status = "suspended"
    member.status_changed_at = utcnow()
    ended = end_all_sessions(member, "suspended")
    audit.record(
        "member.suspended", actor=actor, target_type="member", target_id=member.id, count=ended
    )
    db.session.flush()
    return ended


def reset_second_factor(actor: Member, member: Member) -> int:
    """For a member who lost both phone and recovery codes: their authenticator and recovery
    codes are cleared and their sessions end; they enrol a new app at their next sign-in."""
    if not policy.can_manage_members(actor):
        raise NotAllowed()
    if member.id == actor.id:
        raise Invalid(_("Use your own Two-factor page to set up a new authenticator app."))
    if member.status == "removed":
        raise Invalid(_("This member has been removed."))
    member.totp_secret_sealed = None
    member.totp_pending_sealed = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    ended = end_all_sessions(member, "factor_reset")
    audit.record(
        "second_factor.reset",
        actor=actor,
        target_type="member",
        target_id=member.id,
        count=ended,
        reason="coordinator",
    )
    notices.send(member, "factor_reset")  # a content-free security e-mail (issue 9 item 17)
    db.session.flush()
    return ended


def reinstate(actor: Member, member: Member) -> None:
    """Let a suspended member sign in again."""
    if not policy.can_manage_members(actor):
        raise NotAllowed()
    if member.status != "suspended":
        raise Invalid(_("Only a suspended member can be reinstated."))
    member.status = "active"
    member.status_changed_at = utcnow()
    reconfirm.restart(member)  # the coordinator vetted them again: a new yearly round
    audit.record("member.reinstated", actor=actor, target_type="member", target_id=member.id)
    db.session.flush()


def remove(actor: Member, member: Member) -> None:
    """Remove a member and erase their personal data: their data key is shredded.

    The row stays (posts and audit events point at it), holding only a placeholder name.
    """
    if not policy.can_manage_members(actor):
        raise NotAllowed()
    if member.status == "removed":
        raise Invalid(_("This member has already been removed."))
    _guard_self_and_last(actor, member, "remove")
    end_all_sessions(member, "removed")
    old_key = db.session.get(DataKey, member.dek_id)
    new_key = envelope.new_data_key("member")
    db.session.flush()
    member.dek_id = new_key.id
    set_sealed(member, "name", REMOVED_NAME)
    placeholder = f"removed-{member.id}@invalid"
    set_sealed(member, "email", placeholder)
    member.email_index = email_index(placeholder)
    member.totp_secret_sealed = None
    member.totp_pending_sealed = None
    member.password_hash = ""
    member.country = ""
    member.expertise = ""
    member.languages = ""
    member.timezone = "UTC"
    member.contact_point_countries = ""
    member.organisation = None
    member.is_email_notifications = False
    member.status = "removed"
    member.status_changed_at = utcnow()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.member_id == member.id))
    drafts.erase_member(member.id)  # their unsent drafts are crypto-shredded too
    notify_preferences.forget_member(member.id)  # when she sleeps, which phone she had
    if old_key is not None:
        envelope.shred(old_key)
    audit.record("member.removed", actor=actor, target_type="member", target_id=member.id)
    db.session.flush()


def list_organisations() -> list[Organisation]:
    """Every organisation, by name."""
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def create_organisation(actor: Member, *, name: str, country: str, sector: str) -> Organisation:
    """Add an organisation (names are unique)."""
    if not policy.can_manage_members(actor):
        raise NotAllowed()
    name = " ".join(name.split())
    if not name:
        raise Invalid(_("An organisation needs a name."))
    if len(name) > 200:
        raise Invalid(_("Please keep the name under 200 characters."))
    if country and not is_country(country):
        raise Invalid(_("Choose the organisation's country from the list."))
    if sector not in SECTORS:
        raise Invalid(_("Choose one of the listed sectors."))
    if db.session.scalar(select(Organisation).where(Organisation.name == name)) is not None:
        raise Invalid(_("An organisation with this name exists already."))
    organisation = Organisation(name=name, country=country.upper(), sector=sector)
    db.session.add(organisation)
    db.session.flush()
    audit.record(
        "organisation.created",
        actor=actor,
        target_type="organisation",
        target_id=organisation.id,
        organisation_id=organisation.id,
    )
    return organisation
