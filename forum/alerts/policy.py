"""Who may do what with an alert. Services call these; a refusal looks like "not found"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from forum.alerts.models import Alert, AlertRecipient
from forum.extensions import db

if TYPE_CHECKING:
    from forum.members.models import Member


def is_recipient(member: Member, alert: Alert) -> bool:
    """Whether the member is in the alert's audience."""
    found = db.session.scalar(
        select(AlertRecipient.member_id).where(
            AlertRecipient.alert_id == alert.id, AlertRecipient.member_id == member.id
        )
    )
    return found is not None


def can_raise(member: Member) -> bool:
    """Any active member may raise an alert."""
    return member.is_active_member


def can_read(member: Member, alert: Alert) -> bool:
    """The audience, the coordinators and the raiser may read an alert."""
    if not member.is_active_member:
        return False
    return member.is_coordinator or member.id == alert.raiser_id or is_recipient(member, alert)


def can_answer(member: Member, alert: Alert) -> bool:
    """Whoever may read an open alert may answer it (and change the answer), but its raiser."""
    return not alert.is_closed and member.id != alert.raiser_id and can_read(member, alert)


def can_see_board(member: Member, alert: Alert) -> bool:
    """The response board (who answered what, who has not) is for the raiser and coordinators."""
    return member.is_active_member and (member.is_coordinator or member.id == alert.raiser_id)


def can_see_reach(member: Member, alert: Alert) -> bool:
    """How the alert reached each member (their channels, whether they have a phone on it) is
    for coordinators only, not for a raiser who is a member like the others."""
    return can_see_board(member, alert) and member.is_coordinator


def can_coordinate(member: Member, alert: Alert) -> bool:
    """The raiser and coordinators post updates, change status, open the thread and the call."""
    return can_see_board(member, alert)


def can_resolve(member: Member, alert: Alert) -> bool:
    """The raiser and coordinators resolve an alert and write its review."""
    return can_see_board(member, alert)


def readable_filter(member: Member):  # type: ignore[no-untyped-def]
    """A WHERE clause selecting the alerts the member may read (for lists and the register)."""
    if member.is_coordinator:
        return Alert.id.is_not(None)
    recipients = select(AlertRecipient.alert_id).where(AlertRecipient.member_id == member.id)
    return (Alert.raiser_id == member.id) | Alert.id.in_(recipients)
