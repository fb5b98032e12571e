"""Issue 9, items 1 and 5 (calls): TLP:RED minutes are for the organisers and the members recorded
as having attended, never for someone who sent an "attending" RSVP to a call that is over; RSVPs
close when a call starts; every read of RED minutes is in the audit log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.calls import minutes, occurrences, participation, services
from forum.calls.models import CallResponse, CallSeries, Occurrence
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.notify.models import Notification
from forum.security.audit import AuditEvent
from forum.threads.models import ThreadParticipant
from tests.support.calls import monthly_fields

RED_CANARY = "RED-CANARY-minutes-5519-Ostend"


def _series(members) -> tuple[CallSeries, Member]:
    coordinator = members.coordinator(name="Ana Coordinator")
    series = services.create_series(
        actor=coordinator, fields=monthly_fields(starts_at=utcnow()), now=utcnow()
    )
    db.session.commit()
    return series, coordinator


def _first(series: CallSeries) -> Occurrence:
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


def _past_call(members) -> tuple[Occurrence, Member]:
    """A call of the monthly series that took place two hours ago."""
    series, organiser = _series(members)
    occurrence = _first(series)
    occurrences.move_occurrence(
        occurrence, actor=organiser, starts_at=utcnow() - timedelta(hours=2), duration_minutes=60
    )
    db.session.commit()
    return occurrence, organiser


def test_an_attending_rsvp_to_a_past_call_is_refused_in_plain_words(members, make_browser):
    occurrence, _organiser = _past_call(members)
    intruder = members.make(name="Late Larry")
    response = make_browser(intruder).post(
        f"/calls/occurrences/{occurrence.id}/rsvp", {"answer": "attending"}
    )
    assert response.status_code == 422
    assert "Answers closed when this call started." in response.get_data(as_text=True)
    rows = db.session.scalars(
        select(CallResponse.answer).where(CallResponse.member_id == intruder.id)
    ).all()
    assert rows == [] or rows == [None]


def test_the_service_refuses_an_rsvp_once_the_call_has_started(members):
    occurrence, _organiser = _past_call(members)
    try:
        participation.respond(occurrence, member=members.make(), answer="attending")
    except services.CallError as error:
        assert str(error) == "Answers closed when this call started."
    else:
        raise AssertionError("an RSVP to a call that has started was accepted")


def test_red_minutes_written_before_attendance_are_not_opened_by_an_rsvp(members, make_browser):
    occurrence, organiser = _past_call(members)
    intruder = members.make(name="Curious Carl")
    minutes.write_minutes(occurrence, actor=organiser, body=RED_CANARY, label="RED")
    db.session.commit()
    browser = make_browser(intruder)
    browser.post(f"/calls/occurrences/{occurrence.id}/rsvp", {"answer": "attending"})
    page = browser.get(f"/calls/occurrences/{occurrence.id}").get_data(as_text=True)
    assert RED_CANARY not in page
    assert minutes.minutes_of(occurrence, viewer=intruder) is None
    assert RED_CANARY in make_browser(organiser).get(
        f"/calls/occurrences/{occurrence.id}"
    ).get_data(as_text=True)


def test_an_rsvp_is_not_attendance_for_red_minutes(members):
    """Someone who said "attending" before the call, with attendance not yet recorded, is not
    a reader; recording attendance makes the attendees readers."""
    series, organiser = _series(members)
    occurrence = _first(series)
    said_yes = members.make(name="Said Yes")
    came = members.make(name="Came Along")
    participation.respond(occurrence, member=said_yes, answer="attending")
    participation.respond(occurrence, member=came, answer="attending")
    occurrences.move_occurrence(
        occurrence, actor=organiser, starts_at=utcnow() - timedelta(hours=2), duration_minutes=60
    )
    written = minutes.write_minutes(occurrence, actor=organiser, body=RED_CANARY, label="RED")
    db.session.commit()
    assert minutes.minutes_of(occurrence, viewer=said_yes) is None
    assert minutes.minutes_of(occurrence, viewer=came) is None
    told = set(
        db.session.scalars(
            select(Notification.member_id).where(Notification.kind == "call_minutes")
        )
    )
    assert said_yes.id not in told and came.id not in told and organiser.id in told
    participation.record_attendance(occurrence, actor=organiser, attended=[came.id])
    db.session.commit()
    assert minutes.minutes_of(occurrence, viewer=came) is written
    assert minutes.minutes_of(occurrence, viewer=said_yes) is None


def test_the_red_lessons_thread_names_only_the_minutes_readers(members):
    organiser = members.coordinator(name="Ana Coordinator")
    olga = members.make(name="Olga Organiser")
    series = services.create_series(
        actor=organiser,
        fields=monthly_fields(starts_at=utcnow()),
        organisers=[olga],
        now=utcnow(),
    )
    occurrence = _first(series)
    said_yes = members.make(name="Said Yes")
    came = members.make(name="Came Along")
    participation.respond(occurrence, member=said_yes, answer="attending")
    occurrences.move_occurrence(
        occurrence, actor=organiser, starts_at=utcnow() - timedelta(hours=2), duration_minutes=60
    )
    written = minutes.write_minutes(occurrence, actor=organiser, body=RED_CANARY, label="RED")
    # Opened before attendance is recorded: only the organisers are readers yet.
    thread_id = minutes.open_lessons_thread(written, actor=organiser)
    db.session.commit()
    named = set(
        db.session.scalars(
            select(ThreadParticipant.member_id).where(ThreadParticipant.thread_id == thread_id)
        )
    )
    assert olga.id in named
    assert said_yes.id not in named and came.id not in named


def test_every_read_of_red_minutes_is_audited_and_only_those(members, make_browser):
    occurrence, organiser = _past_call(members)
    attendee = members.make(name="Attending Alice")
    participation.record_attendance(occurrence, actor=organiser, attended=[attendee.id])
    written = minutes.write_minutes(occurrence, actor=organiser, body=RED_CANARY, label="RED")
    db.session.commit()
    browser = make_browser(attendee)
    for _ in range(2):
        assert RED_CANARY in browser.get(f"/calls/occurrences/{occurrence.id}").get_data(
            as_text=True
        )
    reads = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "call.minutes_red_read", AuditEvent.actor_id == attendee.id
        )
    ).all()
    assert len(reads) == 2
    assert {r.target_id for r in reads} == {written.id}
    assert all(RED_CANARY not in r.details for r in reads)
    # A member who may not read them leaves no read behind: nothing was shown; AMBER minutes
    # are not RED reads.
    make_browser(members.make()).get(f"/calls/occurrences/{occurrence.id}")
    amber_call, _ = _past_call(members)
    minutes.write_minutes(amber_call, actor=organiser, body="Amber notes 6612", label="AMBER")
    db.session.commit()
    assert "Amber notes 6612" in browser.get(f"/calls/occurrences/{amber_call.id}").get_data(
        as_text=True
    )
    assert (
        len(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "call.minutes_red_read")
            ).all()
        )
        == 2
    )
