"""Who may do what with calls: the one place that decides, deny by default.

Every route and service of the calls feature asks these functions; nothing else decides. Each
answer is False unless a rule below says yes:

- the calls are for active members only; anyone else sees nothing (404, as for a missing id);
- a call is for every active member, except an emergency call opened from an urgent alert: its
  audience is the alert's, asked of the alerts feature's own service, so a member who gets 404 on
  the alert gets 404 on its call (page, dial-in, .ics, feed, announcement and reminders);
- coordinators and a series' named organisers organise it;
- RSVPs close when the call starts;
- TLP:RED minutes are for the organisers and the members recorded as having attended (an RSVP
  is not attendance); minutes under any other label are for everyone who may see the call.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, false, or_, select

from forum.alerts import services as alert_services
from forum.calls.models import CallResponse, CallSeries, Minutes, Occurrence
from forum.db import utcnow
from forum.errors import NotAllowed, NotFound
from forum.extensions import db
from forum.markup import tlp

if TYPE_CHECKING:
    from forum.members.models import Member

ALERT_ORIGIN = "alert:"

__all__ = ["NotAllowed", "NotFound"]  # forum.errors' own, named here for old callers


def _active(member: Any) -> bool:
    """The gate every answer passes first: a signed-in, active member."""
    return bool(
        member is not None
        and getattr(member, "is_authenticated", False)
        and getattr(member, "is_active_member", False)
    )


def can_see_calls(member: Any) -> bool:
    """Whether a member may see the calls at all (active members only)."""
    return _active(member)


def alert_of(series: CallSeries) -> str | None:
    """The id of the alert an emergency call was opened from, if it was."""
    origin = series.origin or ""
    return origin[len(ALERT_ORIGIN) :] if origin.startswith(ALERT_ORIGIN) else None


def _in_alert_audience(member: Member, alert_id: str) -> bool:
    try:
        alert_services.get_alert(member, alert_id)
    except alert_services.AlertNotFound:
        return False
    return True


def can_read(member: Any, series: CallSeries | None) -> bool:
    """Whether a member may see a call series, its occurrences and its joining details."""
    if series is None or not _active(member):
        return False
    if series.origin is None:
        return True
    alert_id = alert_of(series)
    if alert_id is None:
        return False  # an origin this policy does not know: nobody
    return _in_alert_audience(member, alert_id)


def can_read_occurrence(member: Any, occurrence: Occurrence | None) -> bool:
    """Whether a member may see one call: its time, page, dial-in, agenda and turnout."""
    return occurrence is not None and can_read(member, occurrence.series)


def can_organise(member: Any, series: CallSeries | None) -> bool:
    """Whether a member may change a series, its occurrences, agenda, attendance and minutes."""
    if series is None or not can_read(member, series):
        return False
    return bool(member.is_coordinator) or member.id in series.organiser_ids


def can_create_series(member: Any) -> bool:
    """Whether a member may create call series and events (active coordinators)."""
    return _active(member) and bool(member.is_coordinator)


def can_create_adhoc(member: Any) -> bool:
    """Whether a member may call an ad-hoc call (any active member: an attack needs no admin)."""
    return _active(member)


def rsvp_is_open(occurrence: Occurrence, *, now: datetime | None = None) -> bool:
    """Whether answers are still taken: not cancelled, and the call has not started."""
    return not occurrence.is_cancelled and occurrence.starts_at > (now or utcnow())


def can_rsvp(member: Any, occurrence: Occurrence, *, now: datetime | None = None) -> bool:
    """Whether a member may answer (or change an answer to) a call."""
    return can_read_occurrence(member, occurrence) and rsvp_is_open(occurrence, now=now)


def recorded_attendee_ids(occurrence: Occurrence) -> set[str]:
    """Members an organiser recorded as having attended (empty until attendance is recorded)."""
    return set(
        db.session.scalars(
            select(CallResponse.member_id).where(
                CallResponse.occurrence_id == occurrence.id, CallResponse.is_attended.is_(True)
            )
        )
    )


def can_read_minutes(member: Any, minutes: Minutes | None) -> bool:
    """Whether a member may read minutes (TLP:RED: organisers and recorded attendees only)."""
    if minutes is None or not can_read_occurrence(member, minutes.occurrence):
        return False
    if minutes.label != tlp.RED:
        return True
    occurrence = minutes.occurrence
    return can_organise(member, occurrence.series) or member.id in recorded_attendee_ids(occurrence)


def readers_among(members: list[Member], series: CallSeries) -> list[Member]:
    """The members of a list who may see a series (for announcements and reminders)."""
    return [m for m in members if can_read(m, series)]


def visible_series_clause(member: Any) -> ColumnElement[bool]:
    """SQL condition on CallSeries: the series this member may see (the rule of can_read)."""
    if not _active(member):
        return false()
    special = db.session.scalars(select(CallSeries).where(CallSeries.origin.is_not(None)))
    allowed = [series.id for series in special if can_read(member, series)]
    return or_(CallSeries.origin.is_(None), CallSeries.id.in_(allowed))


def require_see_calls(member: Any) -> None:
    """NotFound unless the member may see the calls at all."""
    if not can_see_calls(member):
        raise NotFound


def require_read(member: Any, series: CallSeries | None) -> CallSeries:
    """The series if the member may see it; otherwise NotFound (the same as for no series)."""
    if series is None or not can_read(member, series):
        raise NotFound
    return series


def require_organise(member: Any, series: CallSeries | None) -> CallSeries:
    """The series if the member organises it; NotFound if unseen, NotAllowed otherwise."""
    series = require_read(member, series)
    if not can_organise(member, series):
        raise NotAllowed(_("Only the call's organisers and coordinators may do this."))
    return series


def require_create_series(member: Any) -> None:
    """NotAllowed unless the member may create series and events."""
    require_see_calls(member)
    if not can_create_series(member):
        raise NotAllowed(_("Only coordinators create call series and events."))


def require_create_adhoc(member: Any) -> None:
    """NotFound unless the member may call an ad-hoc call."""
    if not can_create_adhoc(member):
        raise NotFound


def require_read_minutes(member: Any, minutes: Minutes | None) -> Minutes:
    """The minutes if the member may read them; otherwise NotFound."""
    if minutes is None or not can_read_minutes(member, minutes):
        raise NotFound
    return minutes
