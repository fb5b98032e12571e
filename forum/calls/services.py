"""Call series and occurrences: create, change, fill the horizon, move, cancel, ad-hoc calls.

Services take the actor as an argument, check the policy, flush and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from forum.calls import horizon, policy
from forum.calls.glance import NextCall, OpenAction, next_call_for, open_actions_for
from forum.calls.horizon import fill_all_horizons, fill_horizon, rule_of
from forum.calls.models import KINDS, PATTERNS, CallOrganiser, CallSeries, Occurrence
from forum.calls.recurrence import (
    RecurrenceError,
    add_months,
    slots,
    zone_or_error,
)
from forum.calls.series_fields import SeriesFields, preview_series
from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.errors import Invalid
from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.members import services as members_services
from forum.notify.outbox import notify
from forum.security import audit, limits

if TYPE_CHECKING:
    from forum.members.models import Member

MAX_TITLE = 200
MAX_DURATION_MINUTES = 60 * 24 * 7


# A start this long ago is still "now" (a call typed for 14:00 at 14:03); earlier is the past.
PAST_START_GRACE = timedelta(minutes=5)


class CallError(Invalid):
    """A rule about calls was broken; the message is a plain sentence for the user.

    `field` names the form field the sentence belongs to, when it is about one.
    """


def _check_not_past(starts_at: datetime, now: datetime | None = None) -> None:
    if starts_at < (now or utcnow()) - PAST_START_GRACE:
        raise CallError(
            _("That start has already passed. Choose a date and time in the future."),
            field="start_time",
        )


def _check_common(title: str, duration_minutes: int, timezone: str) -> None:
    if not title.strip():
        raise CallError(_("Please give the call a title."))
    if len(title) > MAX_TITLE:
        raise CallError(_("A title is at most %(n)s characters.", n=MAX_TITLE))
    if not 5 <= duration_minutes <= MAX_DURATION_MINUTES:
        raise CallError(_("A call lasts between 5 minutes and 7 days."))
    try:
        zone_or_error(timezone)
    except RecurrenceError as error:
        raise CallError(str(error)) from None


def _new_series(actor: Member, kind: str, title: str, timezone: str, duration: int) -> CallSeries:
    key = envelope.new_data_key("call")
    db.session.flush()  # the key row first: the series' foreign key names it
    now = utcnow()
    series = CallSeries(
        id=new_id(),
        dek_id=key.id,
        kind=kind,
        timezone=timezone,
        duration_minutes=duration,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        starts_at=now,
    )
    series.seal("title", title.strip(), key_id=key.id)
    return series


def _apply_fields(series: CallSeries, fields: SeriesFields) -> None:
    _check_common(fields.title, fields.duration_minutes, fields.timezone)
    if fields.pattern not in PATTERNS or fields.pattern == "once":
        raise CallError(_("Choose how often the call happens."))
    if any(o <= 0 or o > 60 * 24 * 60 for o in fields.reminder_offsets):
        raise CallError(_("Reminders go out between 1 minute and 60 days before the call."))
    try:
        rule = fields.rule()
        next(iter(slots(rule, until=add_months(rule.starts_at, 14))), None)
    except RecurrenceError as error:
        raise CallError(str(error)) from None
    series.seal("title", fields.title.strip(), key_id=series.dek_id)
    series.seal("description", fields.description.strip(), key_id=series.dek_id)
    series.seal("joining", fields.joining_details.strip(), key_id=series.dek_id)
    series.timezone = fields.timezone
    series.duration_minutes = fields.duration_minutes
    series.pattern = fields.pattern
    series.ordinal = fields.ordinal
    series.weekday = fields.weekday
    series.day_of_month = fields.day_of_month
    series.time_of_day = fields.time_of_day
    series.rotation_time = fields.rotation_time or None
    series.starts_at = fields.starts_at
    series.reminder_offsets = ",".join(str(o) for o in sorted(set(fields.reminder_offsets)))
    series.is_email_joining_allowed = fields.is_email_joining_allowed
    series.updated_at = utcnow()


def _set_organisers(series: CallSeries, organisers: Iterable[Member]) -> None:
    wanted = {m.id for m in organisers}
    series.organisers[:] = [o for o in series.organisers if o.member_id in wanted]
    have = series.organiser_ids
    for member_id in sorted(wanted - have):
        series.organisers.append(CallOrganiser(series_id=series.id, member_id=member_id))


def _active(ids: Iterable[str]) -> list[Member]:
    wanted = [i for i in ids if i]
    return members_services.active_members(wanted) if wanted else []


def create_series(
    *,
    actor: Member,
    fields: SeriesFields,
    organisers: Iterable[Member] = (),
    organiser_ids: Iterable[str] = (),
    now: datetime | None = None,
) -> CallSeries:
    """Create a recurring call series and fill its occurrences up to the horizon.

    Organisers are given as members or by id (ids of members no longer active are dropped).
    """
    if not policy.can_create_series(actor):
        raise policy.NotAllowed(_("Only coordinators create call series."))
    series = _new_series(actor, "series", fields.title, fields.timezone, fields.duration_minutes)
    _apply_fields(series, fields)
    db.session.add(series)
    _set_organisers(series, [actor, *organisers, *_active(organiser_ids)])
    db.session.flush()
    horizon.fill_horizon(series, now=now)
    audit.record("call.series_created", actor=actor, target_type="call_series", target_id=series.id)
    return series


def update_series(
    series: CallSeries,
    *,
    actor: Member,
    fields: SeriesFields,
    organisers: Iterable[Member] | None = None,
    organiser_ids: Iterable[str] | None = None,
    now: datetime | None = None,
) -> int:
    """Change a series; future occurrences nobody touched follow the new rule. Returns how many."""
    policy.require_organise(actor, series)
    if series.kind != "series":
        raise CallError(_("Only a recurring series has a recurrence to change."))
    _apply_fields(series, fields)
    if organiser_ids is not None:
        organisers = [*(organisers or ()), *_active(organiser_ids)]
    if organisers is not None:
        _set_organisers(series, [*organisers])
    db.session.flush()
    changed = horizon.realign_future(series, now or utcnow())
    audit.record(
        "call.series_changed",
        actor=actor,
        target_type="call_series",
        target_id=series.id,
        count=changed,
    )
    return changed


def create_adhoc_call(
    *,
    organiser: Member,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    joining_details: str = "",
    description: str = "",
    origin: str | None = None,
    audience: Iterable[Member] | None = None,
) -> Occurrence:
    """Create a one-off call (e.g. an emergency call during an alert) and tell its audience.

    The audience is every active member, or the members given (an alert's audience); either
    way only those the policy lets see the call are told.
    """
    if not policy.can_create_adhoc(organiser):
        raise policy.NotAllowed(_("Only active members may call an ad-hoc call."))
    if starts_at.tzinfo is None:
        raise CallError(_("The start of a call needs a time zone."))
    _check_not_past(starts_at)
    zone = organiser.timezone or "UTC"
    _check_common(title, duration_minutes, zone)
    limits.check(
        "adhoc_calls_per_day",
        organiser,
        author=CallSeries.created_by_id,
        created=CallSeries.created_at,
        where=(CallSeries.kind == "adhoc",),
        error=CallError,
    )
    series = _new_series(organiser, "adhoc", title, zone, duration_minutes)
    series.pattern = "once"
    series.starts_at = starts_at.astimezone(UTC)
    series.time_of_day = starts_at.astimezone(zone_or_error(zone)).strftime("%H:%M")
    series.origin = origin
    series.seal("description", description.strip(), key_id=series.dek_id)
    series.seal("joining", joining_details.strip(), key_id=series.dek_id)
    db.session.add(series)
    _set_organisers(series, [organiser])
    db.session.flush()
    occurrence = horizon.new_occurrence(series, series.starts_at, 0, now=utcnow())
    db.session.flush()
    _announce_new(series, occurrence, "adhoc", audience)
    audit.record(
        "call.adhoc_created", actor=organiser, target_type="call_series", target_id=series.id
    )
    return occurrence


def start_emergency_call(
    *,
    organiser: Member,
    alert_id: str,
    audience: Iterable[Member],
    starts_at: datetime,
    duration_minutes: int = 60,
    joining_details: str = "",
    description: str = "",
) -> str:
    """Open an urgent alert's one-off emergency call for the alert's audience; its occurrence id.

    The call's title names no detail of the alert; who may see the call is the alert's
    audience (`policy.ALERT_ORIGIN`), told at once.
    """
    occurrence = create_adhoc_call(
        organiser=organiser,
        title="Emergency call on an urgent alert",
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        joining_details=joining_details,
        description=description,
        origin=f"{policy.ALERT_ORIGIN}{alert_id}",
        audience=audience,
    )
    return occurrence.id


def create_event(
    *,
    actor: Member,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    place: str = "",
    programme: str = "",
    description: str = "",
    joining_details: str = "",
) -> Occurrence:
    """Create a multi-day event such as the annual symposium (place and programme sealed)."""
    if not policy.can_create_series(actor):
        raise policy.NotAllowed(_("Only coordinators create events."))
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise CallError(_("The start and end of an event need a time zone."))
    _check_not_past(starts_at)
    if ends_at <= starts_at:
        raise CallError(_("An event ends after it starts."))
    if ends_at - starts_at > timedelta(days=31):
        raise CallError(_("An event lasts at most 31 days."))
    duration = int((ends_at - starts_at).total_seconds() // 60)
    _check_common(title, min(duration, MAX_DURATION_MINUTES), timezone)
    series = _new_series(actor, "event", title, timezone, min(duration, MAX_DURATION_MINUTES))
    series.duration_minutes = duration
    series.pattern = "once"
    series.starts_at = starts_at.astimezone(UTC)
    series.until_at = ends_at.astimezone(UTC)
    series.time_of_day = starts_at.astimezone(zone_or_error(timezone)).strftime("%H:%M")
    for column, text in (
        ("description", description),
        ("joining", joining_details),
        ("place", place),
        ("programme", programme),
    ):
        series.seal(column, text.strip(), key_id=series.dek_id)
    db.session.add(series)
    _set_organisers(series, [actor])
    db.session.flush()
    occurrence = horizon.new_occurrence(
        series, series.starts_at, 0, now=utcnow(), ends_at=ends_at.astimezone(UTC)
    )
    db.session.flush()
    _announce_new(series, occurrence, "event")
    audit.record("call.event_created", actor=actor, target_type="call_series", target_id=series.id)
    return occurrence


def _announce_new(
    series: CallSeries, occurrence: Occurrence, what: str, audience: Iterable[Member] | None = None
) -> None:
    candidates = list(audience) if audience is not None else members_services.active_members()
    text: Text
    if what == "event":
        text = _l("New event: %(title)s", title=series.title)
        subject = _l("A new event has been scheduled")
        body = _l("A new event has been scheduled on the Exchange. Sign in to see it.")
    else:
        text = _l("New ad-hoc call: %(title)s", title=series.title)
        subject = _l("A new ad-hoc call has been scheduled")
        body = _l("A new ad-hoc call has been scheduled on the Exchange. Sign in to see it.")
    notify(
        policy.readers_among(candidates, series),
        event_key=f"call-new:{occurrence.id}",
        kind="call",
        text=text,
        key=series.dek_id,
        link=f"/calls/occurrences/{occurrence.id}",
        email_subject=subject,
        email_body=body,
        stale_at=occurrence.starts_at,  # quiet hours past its start: the bell tells her
    )


def upcoming(actor: Member, *, now: datetime | None = None, limit: int = 50) -> list[Occurrence]:
    """The next occurrences of every call the actor may see, soonest first."""
    policy.require_see_calls(actor)
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Occurrence)
            .join(Occurrence.series)
            .where(Occurrence.ends_at >= now, policy.visible_series_clause(actor))
            .order_by(Occurrence.starts_at)
            .limit(limit)
        )
    )


def series_list(actor: Member) -> list[CallSeries]:
    """Every series and event the actor may see, newest first."""
    policy.require_see_calls(actor)
    return list(
        db.session.scalars(
            select(CallSeries)
            .where(policy.visible_series_clause(actor))
            .order_by(CallSeries.created_at.desc())
        )
    )


__all__ = [
    "KINDS",
    "CallError",
    "NextCall",
    "OpenAction",
    "SeriesFields",
    "preview_series",
    "create_adhoc_call",
    "create_event",
    "create_series",
    "fill_all_horizons",
    "fill_horizon",
    "next_call_for",
    "open_actions_for",
    "rule_of",
    "update_series",
]
