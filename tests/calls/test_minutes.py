"""Minutes, action items, attendance, and the lessons-learned thread in one step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from forum.calls import minutes, occurrences, participation, policy
from forum.calls.models import Occurrence
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.notify.models import Notification, OutboxMessage
from forum.threads.models import Thread


def first(series) -> Occurrence:
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


def organiser_of(series) -> Member:
    return db.session.get(Member, series.created_by_id)


def test_organiser_writes_sealed_minutes_with_action_items_and_members_are_told(monthly, members):
    owner = members.make(name="Owner Member")
    occurrence = first(monthly)
    written = minutes.write_minutes(
        occurrence,
        actor=organiser_of(monthly),
        body="# Decisions\n\n- Canary decision qz8812\n<script>alert(1)</script>",
        label="AMBER",
        action_items=[
            minutes.ActionInput("Draft the canary guide qz4471", owner),
            minutes.ActionInput("  "),
        ],
    )
    db.session.commit()
    html = minutes.rendered(written)
    assert "<h1>Decisions</h1>" in html and "<script>" not in html
    assert [(a.open("text"), a.owner_id) for a in written.action_items] == [
        ("Draft the canary guide qz4471", owner.id)
    ]
    dump = repr(db.session.execute(text("SELECT * FROM call_minutes")).all()) + repr(
        db.session.execute(text("SELECT * FROM call_action_items")).all()
    )
    assert "qz8812" not in dump and "qz4471" not in dump  # never in a hex id
    told = set(
        db.session.scalars(
            select(Notification.member_id).where(Notification.kind == "call_minutes")
        )
    )
    assert owner.id in told
    mails = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "call_minutes")
    ).all()
    assert mails and all("qz8812" not in m.body and "INVICTM" not in m.subject for m in mails)


def test_a_member_cannot_write_minutes(monthly, members):
    with pytest.raises(policy.NotAllowed):
        minutes.write_minutes(first(monthly), actor=members.make(), body="x", label="GREEN")


def test_red_minutes_are_for_organisers_and_attendees_only(monthly, members):
    attendee = members.make()
    absent = members.make()
    occurrence = first(monthly)
    participation.record_attendance(occurrence, actor=organiser_of(monthly), attended=[attendee.id])
    minutes.write_minutes(occurrence, actor=organiser_of(monthly), body="Red notes", label="RED")
    db.session.commit()
    assert minutes.minutes_of(occurrence, viewer=attendee) is not None
    assert minutes.minutes_of(occurrence, viewer=absent) is None
    told = set(
        db.session.scalars(
            select(Notification.member_id).where(Notification.kind == "call_minutes")
        )
    )
    assert attendee.id in told and absent.id not in told


def test_attendance_is_recorded_afterwards(monthly, members):
    present, away = members.make(), members.make()
    occurrence = first(monthly)
    participation.respond(occurrence, member=away, answer="attending")
    count = participation.record_attendance(
        occurrence, actor=organiser_of(monthly), attended=[present.id]
    )
    assert count == 1
    assert participation.attendee_ids(occurrence) == {present.id}
    with pytest.raises(policy.NotAllowed):
        participation.record_attendance(occurrence, actor=present, attended=[present.id])


def test_owner_marks_an_action_item_done_but_another_member_may_not(monthly, members):
    owner, other = members.make(), members.make()
    written = minutes.write_minutes(
        first(monthly),
        actor=organiser_of(monthly),
        body="Notes",
        label="GREEN",
        action_items=[minutes.ActionInput("Do it", owner)],
    )
    item = written.action_items[0]
    with pytest.raises(policy.NotAllowed):
        minutes.set_action_done(item, actor=other, is_done=True)
    minutes.set_action_done(item, actor=owner, is_done=True)
    assert item.is_done


def test_minutes_open_a_lessons_learned_thread_in_one_step(monthly, members, make_browser):
    occurrence = first(monthly)
    organiser = organiser_of(monthly)
    owner = members.make(name="Owner Member")
    minutes.write_minutes(
        occurrence,
        actor=organiser,
        body="What we learned.",
        label="AMBER",
        action_items=[minutes.ActionInput("Update the checklist", owner)],
    )
    db.session.commit()
    response = make_browser(organiser).post(f"/calls/occurrences/{occurrence.id}/minutes/thread")
    assert response.status_code == 302 and "/threads/" in response.headers["Location"]
    thread = db.session.scalars(select(Thread)).one()
    assert thread.label == "AMBER"
    assert thread.origin.startswith("call_minutes:")
    written = minutes.minutes_of(occurrence, viewer=organiser)
    assert written.thread_id == thread.id
    again = make_browser(organiser).post(f"/calls/occurrences/{occurrence.id}/minutes/thread")
    assert again.status_code == 302
    assert len(db.session.scalars(select(Thread)).all()) == 1, "one step, once"


def test_minutes_form_keeps_the_text_on_error(monthly, make_browser):
    occurrence = first(monthly)
    response = make_browser(organiser_of(monthly)).post(
        f"/calls/occurrences/{occurrence.id}/minutes", {"body": "", "label": "NOT-A-LABEL"}
    )
    assert response.status_code == 422
    assert "The minutes are empty." in response.get_data(as_text=True)


def test_organisers_are_told_red_minutes_wait_for_attendance(monthly, members, make_browser):
    occurrence = first(monthly)
    organiser = organiser_of(monthly)
    occurrences.move_occurrence(
        occurrence, actor=organiser, starts_at=utcnow() - timedelta(hours=2), duration_minutes=60
    )
    minutes.write_minutes(occurrence, actor=organiser, body="Red notes", label="RED")
    db.session.commit()
    page = make_browser(organiser).get(f"/calls/occurrences/{occurrence.id}").get_data(as_text=True)
    assert "record attendance</a> so the attendees can read them" in page
