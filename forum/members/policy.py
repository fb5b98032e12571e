"""Who may do what with members: one function per decision, called by the services."""

from __future__ import annotations

from forum.members.models import Member


def can_see_directory(actor: Member | None) -> bool:
    """Only active members see the directory and profiles."""
    return actor is not None and actor.is_active_member


def can_see_profile(actor: Member | None, member: Member) -> bool:
    """Active members see active members' profiles; coordinators also see suspended ones."""
    if not can_see_directory(actor):
        return False
    assert actor is not None
    return member.status == "active" or (actor.is_coordinator and member.status != "removed")


def can_manage_members(actor: Member | None) -> bool:
    """Only active coordinators invite, vet, change roles, suspend and remove."""
    return actor is not None and actor.is_coordinator


def can_nominate(actor: Member | None) -> bool:
    """Any active member may nominate someone for vetting."""
    return actor is not None and actor.is_active_member
