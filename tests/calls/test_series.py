"""Series and occurrences: the horizon, moving and cancelling one call, changing the series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from forum.calls import occurrences, policy, services
from forum.calls.models import CallSeries, Occurrence, Reminder
from forum.extensions import db
from forum.members.models import Member
from tests.support.calls import DIAL_IN, NOW, monthly_fields


def occurrences_of(series: CallSeries) -> list[Occurrence]:
    return list(
        db.session.scalars(
            select(Occurrence)
            .where(Occurrence.series_id == series.id)
            .order_by(Occurrence.starts_at)
        )
    )


def test_creating_a_series_fills_six_months_of_occurrences_of(monthly):
    rows = occurrences_of(monthly)
    assert len(rows) == 6  # calls.horizon_months = 6: December to May
    assert rows[0].starts_at == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert all(
        r.starts_at.astimezone(ZoneInfo("Europe/Brussels")).strftime("%H:%M") == "14:00"
        for r in rows
    )
    reminders = db.session.scalar(select(func.count()).select_from(Reminder))
    assert reminders == 12  # 7 days and 1 hour before each


def test_filling_the_horizon_twice_creates_nothing_the_second_time(monthly):
    later = NOW + timedelta(days=40)
    first = services.fill_horizon(monthly, now=later)
    second = services.fill_horizon(monthly, now=later)
    assert first == 1 and second == 0
    assert services.fill_all_horizons(now=later) == 0
    assert len(occurrences_of(monthly)) == 7


def test_moving_one_occurrence_leaves_the_series_and_the_others_alone(monthly):
    actor = db.session.get(Member, monthly.created_by_id)
    first, second = occurrences_of(monthly)[:2]
    new_start = datetime(2026, 12, 11, 9, 0, tzinfo=UTC)
    occurrences.move_occurrence(first, actor=actor, starts_at=new_start)
    db.session.commit()
    assert first.starts_at == new_start and first.is_modified and first.sequence == 1
    assert second.sequence == 0 and not second.is_modified
    assert monthly.time_of_day == "14:00"
    due = db.session.scalars(
        select(Reminder.due_at).where(Reminder.occurrence_id == first.id).order_by(Reminder.due_at)
    ).all()
    assert due == [new_start - timedelta(days=7), new_start - timedelta(hours=1)]


def test_cancelling_one_occurrence_raises_its_sequence_and_keeps_the_row(monthly):
    actor = db.session.get(Member, monthly.created_by_id)
    first = occurrences_of(monthly)[0]
    occurrences.cancel_occurrence(first, actor=actor)
    db.session.commit()
    assert first.is_cancelled and first.sequence == 1
    assert len(occurrences_of(monthly)) == 6


def test_an_occurrence_can_get_its_own_joining_link(monthly):
    actor = db.session.get(Member, monthly.created_by_id)
    first, second = occurrences_of(monthly)[:2]
    occurrences.set_occurrence_joining(
        first, actor=actor, joining_details="https://other.example/room"
    )
    db.session.commit()
    assert occurrences.joining_details(first, actor) == "https://other.example/room"
    assert occurrences.joining_details(second, actor) == DIAL_IN


def test_changing_the_series_updates_only_future_untouched_occurrences_of(monthly):
    actor = db.session.get(Member, monthly.created_by_id)
    rows = occurrences_of(monthly)
    moved, cancelled = rows[1], rows[2]
    occurrences.move_occurrence(
        moved, actor=actor, starts_at=datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    )
    occurrences.cancel_occurrence(cancelled, actor=actor)
    db.session.commit()
    later = datetime(2026, 12, 20, tzinfo=UTC)  # the December call is over
    changed = services.update_series(
        monthly, actor=actor, fields=monthly_fields(time_of_day="16:00", starts_at=NOW), now=later
    )
    db.session.commit()
    by_id = {o.id: o for o in occurrences_of(monthly)}
    past = by_id[rows[0].id]
    assert past.starts_at == datetime(2026, 12, 10, 13, 0, tzinfo=UTC) and past.sequence == 0
    assert by_id[moved.id].starts_at == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    assert by_id[cancelled.id].is_cancelled
    followed = [o for o in by_id.values() if o.starts_at > later and not o.is_modified]
    assert followed and all(
        o.starts_at.astimezone(ZoneInfo("Europe/Brussels")).hour == 16 for o in followed
    )
    assert all(o.sequence == 1 for o in followed if o.id in {r.id for r in rows})
    assert changed == 3  # March, April and May moved to 16:00; June is new


def test_changing_the_weekday_reuses_rows_and_cancels_what_no_longer_exists(monthly):
    actor = db.session.get(Member, monthly.created_by_id)
    before = {o.id for o in occurrences_of(monthly)}
    services.update_series(
        monthly, actor=actor, fields=monthly_fields(pattern="last_weekday", weekday=1), now=NOW
    )
    db.session.commit()
    after = occurrences_of(monthly)
    assert {o.id for o in after} == before, "calendars keep their UIDs"
    assert all(o.starts_at.astimezone(ZoneInfo("Europe/Brussels")).weekday() == 1 for o in after)


def test_only_organisers_change_a_series(monthly, members):
    member = members.make()
    with pytest.raises(policy.NotAllowed):
        services.update_series(monthly, actor=member, fields=monthly_fields(time_of_day="16:00"))
    with pytest.raises(policy.NotAllowed):
        occurrences.cancel_occurrence(occurrences_of(monthly)[0], actor=member)
    with pytest.raises(policy.NotAllowed):
        services.create_series(actor=member, fields=monthly_fields())


def test_a_named_organiser_who_is_not_a_coordinator_may_organise(members):
    coordinator = members.coordinator()
    organiser = members.make()
    series = services.create_series(
        actor=coordinator, fields=monthly_fields(), organisers=[organiser], now=NOW
    )
    db.session.commit()
    occurrences.cancel_occurrence(occurrences_of(series)[0], actor=organiser)
    assert occurrences_of(series)[0].is_cancelled


def test_suspended_member_sees_nothing(monthly, members):
    member = members.make()
    member.status = "suspended"
    occurrence = occurrences_of(monthly)[0]
    with pytest.raises(policy.NotFound):
        occurrences.get_occurrence(member, occurrence.id)
    with pytest.raises(policy.NotFound):
        occurrences.joining_details(occurrence, member)
    with pytest.raises(policy.NotFound):
        services.upcoming(member)


def test_title_description_and_joining_details_are_sealed_at_rest(monthly):
    actor = db.session.get(Member, monthly.created_by_id)
    occurrences.set_occurrence_joining(
        occurrences_of(monthly)[0], actor=actor, joining_details="canary-joining-7731"
    )
    db.session.commit()
    for table in ("call_series", "call_occurrences"):
        for row in db.session.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
            dump = repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
            for canary in ("INVICTM monthly", "victim identification", "483920", "canary-joining"):
                assert canary not in dump
    assert occurrences.joining_details(occurrences_of(monthly)[0], actor) == "canary-joining-7731"


def test_a_symposium_spans_several_days_with_sealed_place_and_programme(members):
    coordinator = members.coordinator()
    occurrence = services.create_event(
        actor=coordinator,
        title="Annual symposium 2027",
        starts_at=datetime(2027, 6, 14, 7, 0, tzinfo=UTC),
        ends_at=datetime(2027, 6, 16, 15, 0, tzinfo=UTC),
        timezone="Europe/Brussels",
        place="Palais des Académies, Brussels",
        programme="Day 1: opening. Day 2: workshops.",
    )
    db.session.commit()
    assert occurrence.series.kind == "event"
    assert occurrence.ends_at - occurrence.starts_at == timedelta(days=2, hours=8)
    assert occurrence.series.open("place") == "Palais des Académies, Brussels"
    raw = db.session.execute(text("SELECT place_sealed FROM call_series")).scalar_one()
    assert b"Acad" not in bytes(raw)
