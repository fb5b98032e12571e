"""Who may do what with calls: one function per question, called by the services.

Every active member may see every call (the monthly call is the network's own meeting);
anyone else sees nothing. Coordinators and a series' named organisers organise it.
"""

from __future__ import annotations

from forum.calls.models import CallSeries
from forum.members.models import Member


class NotFound(Exception):
    """Nothing to see here: raised alike for what does not exist and what the actor may not see."""


class NotAllowed(Exception):
    """The actor may see the call but may not do this; the message is a plain sentence."""


def can_see_calls(member: Member | None) -> bool:
    """Whether a member may see the calls at all (active members only)."""
    return bool(
        member is not None
        and getattr(member, "is_authenticated", False)
        and getattr(member, "is_active_member", False)
    )


def can_read(member: Member | None, series: CallSeries | None) -> bool:
    """Whether a member may see a call series, its occurrences and its joining details."""
    return series is not None and can_see_calls(member)


def can_organise(member: Member | None, series: CallSeries) -> bool:
    """Whether a member may change a series, its occurrences, agenda, attendance and minutes."""
    if not can_read(member, series) or member is None:
        return False
    return member.is_coordinator or member.id in series.organiser_ids


def can_create_series(member: Member | None) -> bool:
    """Whether a member may create call series and events (coordinators)."""
    return bool(member is not None and member.is_coordinator)


def can_create_adhoc(member: Member | None) -> bool:
    """Whether a member may call an ad-hoc call (any active member: an attack needs no admin)."""
    return bool(member is not None and member.is_active_member)


def require_read(member: Member | None, series: CallSeries | None) -> CallSeries:
    """The series if the member may see it; otherwise NotFound (the same as for no series)."""
    if series is None or not can_read(member, series):
        raise NotFound
    return series


def require_organise(member: Member | None, series: CallSeries | None) -> CallSeries:
    """The series if the member organises it; NotFound if unseen, NotAllowed otherwise."""
    series = require_read(member, series)
    if not can_organise(member, series):
        raise NotAllowed("Only the call's organisers and coordinators may do this.")
    return series
