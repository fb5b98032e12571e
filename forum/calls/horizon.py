"""The horizon: occurrence rows computed from a series' rule, kept filled some months ahead.

Filling is idempotent (a slot that has a row is skipped). Changing a series re-places only
future occurrences nobody changed by hand, reusing their rows (and calendar UIDs); a row left
over is cancelled, not deleted, so calendars learn of it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from forum.calls import reminders
from forum.calls.models import CallSeries, Occurrence
from forum.calls.recurrence import Rule, add_months, slots
from forum.db import new_id, utcnow
from forum.extensions import db


def rule_of(series: CallSeries) -> Rule:
    """The recurrence rule stored on a series."""
    return Rule(
        pattern=series.pattern,
        timezone=series.timezone,
        time_of_day=series.time_of_day,
        starts_at=series.starts_at,
        ordinal=series.ordinal,
        weekday=series.weekday,
        day_of_month=series.day_of_month,
        rotation_time=series.rotation_time,
        until_at=series.until_at,
    )


def _settings() -> dict[str, int]:
    settings: dict[str, int] = current_app.config["EXCHANGE"]["calls"]
    return settings


def horizon_end(now: datetime) -> datetime:
    """How far ahead occurrences exist: calls.horizon_months from now."""
    return add_months(now, int(_settings()["horizon_months"]))


def _place(series: CallSeries, occurrence: Occurrence, starts_at: datetime, position: int) -> bool:
    """Put an untouched occurrence at a slot; True if its time changed."""
    ends_at = starts_at + timedelta(minutes=series.duration_minutes)
    changed = occurrence.starts_at != starts_at or occurrence.ends_at != ends_at
    occurrence.slot_at = starts_at
    occurrence.position = position
    occurrence.starts_at = starts_at
    occurrence.ends_at = ends_at
    return changed


def realign_future(series: CallSeries, now: datetime) -> int:
    """Re-place future untouched occurrences on the new rule's slots; cancel the ones left over."""
    rows = list(
        db.session.scalars(
            select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.slot_at)
        )
    )
    movable = [o for o in rows if o.starts_at > now and not o.is_modified]
    for changed_by_hand in (o for o in rows if o.starts_at > now and o.is_modified):
        reminders.plan(series, changed_by_hand, now=now)  # its time stays; its reminders follow
    reserved = {o.slot_at for o in rows if o not in movable}
    wanted = [
        (p, at) for p, at in slots(rule_of(series), until=horizon_end(now), after=now) if at > now
    ]
    wanted = [(p, at) for p, at in wanted if at not in reserved]
    by_slot = {o.slot_at: o for o in movable}
    free_slots = [(p, at) for p, at in wanted if at not in by_slot]
    kept = {at for _, at in wanted if at in by_slot}
    leftovers = [o for o in movable if o.slot_at not in kept]
    changed = 0
    # Park leftovers on unique placeholder slots first so the unique (series, slot) never clashes.
    for index, occurrence in enumerate(leftovers):
        occurrence.slot_at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=index + 1)
    db.session.flush()
    for position, at in wanted:
        kept_row = by_slot.get(at)
        if kept_row is not None:
            if _place(series, kept_row, at, position) or kept_row.is_cancelled:
                kept_row.bump(status="scheduled")
                changed += 1
            reminders.plan(series, kept_row, now=now)
    for occurrence, (position, at) in zip(leftovers, free_slots, strict=False):
        _place(series, occurrence, at, position)
        occurrence.bump(status="scheduled")
        reminders.plan(series, occurrence, now=now)
        changed += 1
    for occurrence in leftovers[len(free_slots) :]:
        # Keep the row (and its UID) so calendars learn of the cancellation.
        occurrence.slot_at = occurrence.starts_at
        if not occurrence.is_cancelled:
            occurrence.bump(status="cancelled")
            changed += 1
    db.session.flush()
    for position, at in free_slots[len(leftovers) :]:
        new_occurrence(series, at, position, now=now)
    series.filled_until_at = horizon_end(now)
    db.session.flush()
    return changed


def new_occurrence(
    series: CallSeries,
    starts_at: datetime,
    position: int,
    *,
    now: datetime,
    ends_at: datetime | None = None,
) -> Occurrence:
    occurrence = Occurrence(
        id=new_id(),
        series_id=series.id,
        slot_at=starts_at,
        position=position,
        starts_at=starts_at,
        ends_at=ends_at or starts_at + timedelta(minutes=series.duration_minutes),
        status="scheduled",
        is_modified=False,
        sequence=0,
        created_at=now,
        updated_at=now,
    )
    occurrence.series = series
    db.session.add(occurrence)
    reminders.plan(series, occurrence, now=now, is_new=True)
    return occurrence


def fill_horizon(series: CallSeries, *, now: datetime | None = None) -> int:
    """Create the series' missing future occurrences up to the horizon; returns how many (idempotent)."""
    now = now or utcnow()
    if series.kind != "series" or series.is_ended:
        return 0
    horizon = horizon_end(now)
    existing = set(
        db.session.scalars(
            select(Occurrence.slot_at).where(
                Occurrence.series_id == series.id, Occurrence.slot_at >= now
            )
        )
    )
    created = 0
    for position, at in slots(rule_of(series), until=horizon, after=now):
        if at in existing:
            continue
        new_occurrence(series, at, position, now=now)
        created += 1
    series.filled_until_at = horizon
    db.session.flush()
    return created


def fill_all_horizons(*, now: datetime | None = None) -> int:
    """Keep every active series filled up to the horizon (the scheduler's job)."""
    now = now or utcnow()
    horizon = horizon_end(now)
    due = db.session.scalars(
        select(CallSeries).where(
            CallSeries.kind == "series",
            CallSeries.is_ended.is_(False),
            (CallSeries.filled_until_at.is_(None)) | (CallSeries.filled_until_at < horizon),
        )
    )
    return sum(fill_horizon(series, now=now) for series in list(due))
