"""One occurrence at a time: read it, move it, cancel it, give it its own joining details.

Changing one occurrence marks it modified, so later changes to the series leave it alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import select

from forum.calls import policy, reminders
from forum.calls.models import CallSeries, Occurrence
from forum.calls.services import MAX_DURATION_MINUTES, CallError
from forum.db import utcnow
from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.members import services as members_services
from forum.notify.outbox import notify
from forum.security import audit

if TYPE_CHECKING:
    from forum.members.models import Member


def get_occurrence(actor: Member | None, occurrence_id: str) -> Occurrence:
    """An occurrence the actor may see, or NotFound."""
    occurrence = db.session.get(Occurrence, occurrence_id)
    if occurrence is None:
        raise policy.NotFound
    policy.require_read(actor, occurrence.series)
    return occurrence


def organised_occurrence(actor: Member, occurrence_id: str) -> Occurrence:
    """An occurrence the actor organises; NotFound if unseen, NotAllowed otherwise."""
    occurrence = get_occurrence(actor, occurrence_id)
    policy.require_organise(actor, occurrence.series)
    return occurrence


def organised_series(actor: Member, series_id: str) -> CallSeries:
    """A recurring series the actor organises; NotFound if unseen or not recurring."""
    series = policy.require_organise(actor, get_series(actor, series_id))
    if series.kind != "series":
        raise policy.NotFound
    return series


def get_series(actor: Member | None, series_id: str) -> CallSeries:
    """A series the actor may see, or NotFound."""
    series = db.session.get(CallSeries, series_id)
    return policy.require_read(actor, series)


def move_occurrence(
    occurrence: Occurrence,
    *,
    actor: Member,
    starts_at: datetime,
    duration_minutes: int | None = None,
) -> Occurrence:
    """Move one occurrence to another time; the series is not touched. Members are told."""
    series = policy.require_organise(actor, occurrence.series)
    if starts_at.tzinfo is None:
        raise CallError(_("The new time needs a time zone."))
    duration = duration_minutes or int(
        (occurrence.ends_at - occurrence.starts_at).total_seconds() // 60
    )
    if not 5 <= duration <= MAX_DURATION_MINUTES:
        raise CallError(_("A call lasts between 5 minutes and 7 days."))
    occurrence.starts_at = starts_at.astimezone(UTC)
    occurrence.ends_at = occurrence.starts_at + timedelta(minutes=duration)
    occurrence.is_modified = True
    occurrence.bump(status="scheduled")
    reminders.plan(series, occurrence, now=utcnow())
    db.session.flush()
    _tell_change(series, occurrence, "moved")
    audit.record(
        "call.occurrence_moved", actor=actor, target_type="call_occurrence", target_id=occurrence.id
    )
    return occurrence


def cancel_occurrence(occurrence: Occurrence, *, actor: Member) -> Occurrence:
    """Cancel one occurrence; calendars get a cancellation with the same UID."""
    series = policy.require_organise(actor, occurrence.series)
    if occurrence.is_cancelled:
        return occurrence
    occurrence.is_modified = True
    occurrence.bump(status="cancelled")
    db.session.flush()
    _tell_change(series, occurrence, "cancelled")
    audit.record(
        "call.occurrence_cancelled",
        actor=actor,
        target_type="call_occurrence",
        target_id=occurrence.id,
    )
    return occurrence


def set_occurrence_joining(
    occurrence: Occurrence, *, actor: Member, joining_details: str
) -> Occurrence:
    """Give one occurrence its own joining details (empty: back to the series' details)."""
    series = policy.require_organise(actor, occurrence.series)
    occurrence.seal("joining", joining_details.strip(), key_id=series.dek_id)
    occurrence.is_modified = True
    occurrence.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "call.joining_changed", actor=actor, target_type="call_occurrence", target_id=occurrence.id
    )
    return occurrence


def joining_details(occurrence: Occurrence, viewer: Member | None) -> str:
    """The joining details that apply to an occurrence, for a member allowed to see them."""
    series = policy.require_read(viewer, occurrence.series)
    return occurrence.open("joining") or series.open("joining")


def _tell_change(series: CallSeries, occurrence: Occurrence, what: str) -> None:
    active = members_services.active_members()
    day = format(occurrence.slot_at, "%d %b %Y")
    text: Text
    if what == "moved":
        text = _l(
            "%(title)s on %(date)s has been moved to another time.", title=series.title, date=day
        )
        subject = _l("A call has been moved to another time")
        body = _l(
            "A call on the Exchange has been moved to another time. Sign in to see the details."
        )
    else:
        text = _l("%(title)s on %(date)s has been cancelled.", title=series.title, date=day)
        subject = _l("A call has been cancelled")
        body = _l("A call on the Exchange has been cancelled. Sign in to see the details.")
    notify(
        policy.readers_among(active, series),
        event_key=f"call-{what}:{occurrence.id}:{occurrence.sequence}",
        kind="call",
        text=text,
        key=series.dek_id,
        link=f"/calls/occurrences/{occurrence.id}",
        email_subject=subject,
        email_body=body,
        stale_at=max(occurrence.starts_at, occurrence.slot_at),  # moved: whichever is later
    )


def now() -> datetime:
    """The current time (UTC); one place for views to ask."""
    return utcnow()


def of_series(series: CallSeries, *, viewer: Member, past: int = 6) -> list[Occurrence]:
    """The last few past occurrences of a series and every future one, in order."""
    policy.require_read(viewer, series)
    current = utcnow()
    earlier = list(
        db.session.scalars(
            select(Occurrence)
            .where(Occurrence.series_id == series.id, Occurrence.ends_at < current)
            .order_by(Occurrence.starts_at.desc())
            .limit(past)
        )
    )
    later = list(
        db.session.scalars(
            select(Occurrence)
            .where(Occurrence.series_id == series.id, Occurrence.ends_at >= current)
            .order_by(Occurrence.starts_at)
        )
    )
    return [*reversed(earlier), *later]


def organisers_of(series: CallSeries) -> list[Member]:
    """The named organisers of a series."""
    ids = series.organiser_ids
    if not ids:
        return []
    return list(members_services.members_by_id(ids).values())


def member_name(member_id: str | None) -> str:
    """A member's name for a page, or "a former member"."""
    member = members_services.get_member(member_id)
    return member.display_name if member is not None else _("a former member")


def member_choices() -> dict[str, str]:
    """{id: name} of every active member, by name, for organiser and attendance forms."""
    rows = members_services.active_members()
    pairs = sorted(((m.id, m.display_name) for m in rows), key=lambda pair: pair[1].casefold())
    return dict(pairs)


def members_by_ids(ids: list[str]) -> list[Member]:
    """The active members with these ids."""
    wanted = [i for i in ids if i]
    if not wanted:
        return []
    return members_services.active_members(wanted)


def zone(name: str) -> ZoneInfo:
    """A ZoneInfo by name (UTC if the name is unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
