"""Issue 9 item 21: each member confirms their organisation and role once a year (a reminder,
then a grace period, then suspension with notice); members who have not signed in for a long
time are suspended after a notice; both audited and shown to coordinators. The sweep is a
scheduler job (members.reconfirm) and idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from forum.db import utcnow
from forum.extensions import db
from forum.members import admin
from forum.members.jobs import sweep_confirmations
from forum.members.models import Member, MemberSession
from forum.members.reconfirm import sweep
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import OutboxMessage
from forum.security.audit import AuditEvent

YEAR = timedelta(days=366)


def _joined(member: Member, ago: timedelta, signed_in_ago: timedelta | None = None) -> None:
    member.created_at = utcnow() - ago
    member.last_sign_in_at = utcnow() - (signed_in_ago if signed_in_ago is not None else ago)
    db.session.commit()


def _mails(member: Member) -> list[OutboxMessage]:
    return [
        row
        for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "account"))
        if row.idempotency_key.startswith(f"reconfirm:{member.id}:")
    ]


def _audited(action: str, member: Member) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.target_id == member.id)
        )
    )


def test_a_member_due_is_reminded_once_then_suspended_with_notice_after_the_grace(
    app, members, make_browser, mailbox
):
    members.coordinator()
    member = members.make(
        name="Rita Reminded", email="rita@example.org", organisation=members.organisation("Org R")
    )
    _joined(member, YEAR, signed_in_ago=timedelta(days=2))
    browser = make_browser(member)
    assert sweep_confirmations()["reminded"] == 1
    db.session.commit()
    assert sweep()["reminded"] == 0  # idempotent: a second run sends nothing
    db.session.commit()
    (reminder,) = _mails(member)
    assert "confirm" in reminder.subject.lower()
    assert "Rita" not in reminder.body and "Org R" not in reminder.body  # content-free
    assert _audited("member.reconfirm_reminded", member)
    assert sweep(utcnow() + timedelta(days=29))["suspended"] == 0
    done = sweep(utcnow() + timedelta(days=31))
    db.session.commit()
    db.session.refresh(member)
    assert done["suspended"] == 1 and member.status == "suspended"
    assert [e.detail_items["reason"] for e in _audited("member.suspended", member)] == [
        "unconfirmed"
    ]
    assert any("suspended" in m.subject for m in _mails(member))
    assert (
        db.session.scalars(
            select(MemberSession).where(
                MemberSession.member_id == member.id, MemberSession.ended_at.is_(None)
            )
        ).all()
        == []
    )
    nxt = browser.get("/members")
    assert nxt.status_code == 302 and "/sign-in" in nxt.headers["Location"]
    assert sweep(utcnow() + timedelta(days=32))["suspended"] == 0
    db.session.commit()
    dispatch_due()
    db.session.commit()
    received = mailbox.to("rita@example.org")
    subjects = sorted(str(m["Subject"]) for m in received)
    assert len(received) == 2 and "suspended" in subjects[1] and "confirm" in subjects[0]
    assert all("Org R" not in m.get_body().get_content() for m in received)


def test_confirming_starts_a_new_year(app, members, make_browser):
    members.coordinator()
    member = members.make(organisation=members.organisation("Org C"))
    _joined(member, YEAR, signed_in_ago=timedelta(days=1))
    sweep()
    db.session.commit()
    browser = make_browser(member)
    page = browser.get("/account/confirm-membership").get_data(as_text=True)
    assert "Org C" in page and "Please confirm before" in page
    assert browser.post("/account/confirm-membership").status_code == 302
    assert _audited("member.reconfirmed", member)
    assert sweep(utcnow() + timedelta(days=40)) == {
        "reminded": 0,
        "told_inactive": 0,
        "suspended": 0,
    }
    db.session.refresh(member)
    assert member.status == "active"


def test_a_long_absence_is_told_then_suspended_unless_the_member_signs_in(app, members):
    members.coordinator()
    away = members.make()
    back = members.make()
    for member in (away, back):
        _joined(member, timedelta(days=200))
    assert sweep()["told_inactive"] == 2
    db.session.commit()
    assert all(_mails(m) for m in (away, back)) and _audited("member.inactivity_notice", away)
    back.last_sign_in_at = utcnow() + timedelta(days=1)  # came back after the notice
    db.session.commit()
    sweep(utcnow() + timedelta(days=31))
    db.session.commit()
    db.session.refresh(away)
    db.session.refresh(back)
    assert away.status == "suspended" and back.status == "active"
    assert [e.detail_items["reason"] for e in _audited("member.suspended", away)] == ["inactive"]


def test_reinstatement_starts_a_new_round_and_the_last_coordinator_is_kept(app, members):
    coordinator = members.coordinator()
    _joined(coordinator, YEAR * 2, signed_in_ago=YEAR)
    member = members.make()
    _joined(member, YEAR, signed_in_ago=timedelta(days=1))
    sweep()
    sweep(utcnow() + timedelta(days=31))
    db.session.commit()
    db.session.refresh(member)
    db.session.refresh(coordinator)
    assert member.status == "suspended" and coordinator.status == "active"
    admin.reinstate(coordinator, member)
    db.session.commit()
    assert sweep(utcnow() + timedelta(days=32))["suspended"] == 0
    db.session.refresh(member)
    assert member.status == "active"


def test_coordinators_see_where_each_member_stands(app, members, make_browser):
    coordinator = members.coordinator()
    member = members.make(name="Ursula Unconfirmed")
    _joined(member, YEAR, signed_in_ago=timedelta(days=1))
    sweep()
    db.session.commit()
    page = make_browser(coordinator).get("/admin/confirmations")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Ursula Unconfirmed" in text and "reminded" in text
    assert make_browser(members.make()).get("/admin/confirmations").status_code == 403


def test_the_sweep_is_a_scheduled_job(app: Any):
    specs = {spec.id: spec for spec in app.extensions["exchange.jobs"]}
    assert specs["members.reconfirm"].func is sweep_confirmations
