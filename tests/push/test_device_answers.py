"""Answers from a notification, with the device's answer credential: two taps at once both
count, the credential ends with every end of the device's sign-in, and nothing secret of a
push or of an answer reaches the log."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import func, select

from forum.alerts import services
from forum.alerts.models import AlertAnswer
from forum.extensions import db
from forum.members import account, admin
from forum.members.models import MemberSession
from forum.members.sessions import _digest, start_session
from forum.notify.dispatcher import dispatch_due
from tests.support.alerts import CANARY, raise_alert


def _tap(app, alert_id: str, credential: str, answer: str = "seen"):  # type: ignore[no-untyped-def]
    return app.test_client().post(
        f"/alerts/{alert_id}/device-answer",
        json={"answer": answer},
        headers={"Authorization": f"Bearer {credential}"},
    )


def _answer_of(member_id: str, alert_id: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(
        select(AlertAnswer.answer).where(
            AlertAnswer.member_id == member_id, AlertAnswer.alert_id == alert_id
        )
    )


def _at_once(*calls) -> None:  # type: ignore[no-untyped-def]
    """Run the calls in threads released together (each its own request or app context)."""
    barrier = threading.Barrier(len(calls))

    def run(call) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        call()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def test_a_tap_that_finds_an_answer_written_meanwhile_keeps_the_fuller_one(
    app, members, add_device, monkeypatch
):
    """The tap's first look found no answer; by its write "I can help" stands (the laptop's,
    committed in between): the phone's "Seen" must not take it back."""
    from forum.alerts import answers

    member = members.make()
    _phone, on_phone = add_device(member)
    alert = raise_alert(members.make())
    services.answer_alert(member, alert.id, "can_help")
    db.session.commit()
    real = answers.my_answer
    looks: list[str] = []

    def first_look_finds_nothing(who, alert):  # type: ignore[no-untyped-def]
        looks.append(alert.id)
        return None if len(looks) == 1 else real(who, alert)

    monkeypatch.setattr(answers, "my_answer", first_look_finds_nothing)
    assert _tap(app, alert.id, on_phone, "seen").status_code == 204
    monkeypatch.setattr(answers, "my_answer", real)
    assert _answer_of(member.id, alert.id) == "can_help"


def test_an_insert_that_meets_the_other_taps_row_is_applied_to_it(
    app, members, add_device, monkeypatch
):
    """The insert that loses the race (its look found nothing; the other's row is there)
    is undone in its savepoint and applied to that row by the upgrade rule."""
    from forum.alerts import answers

    member = members.make()
    _phone, on_phone = add_device(member)
    alert = raise_alert(members.make())
    services.answer_alert(member, alert.id, "seen")
    db.session.commit()
    real = answers.my_answer
    looks: list[str] = []

    def first_look_finds_nothing(who, alert):  # type: ignore[no-untyped-def]
        looks.append(alert.id)
        return None if len(looks) <= 2 else real(who, alert)  # the route's look, then _record's

    monkeypatch.setattr(answers, "my_answer", first_look_finds_nothing)
    assert _tap(app, alert.id, on_phone, "can_help").status_code == 204
    monkeypatch.setattr(answers, "my_answer", real)
    assert _answer_of(member.id, alert.id) == "can_help"
    assert len(looks) == 3
    assert (
        db.session.scalar(
            select(func.count()).select_from(AlertAnswer).where(AlertAnswer.alert_id == alert.id)
        )
        == 1
    )


def test_password_change_elsewhere_and_removal_end_the_credential(app, members, add_device):
    member = members.make()
    laptop = db.session.get(MemberSession, _digest(start_session(member)))
    phone = db.session.get(MemberSession, _digest(start_session(member)))
    _, on_phone = add_device(member, session_ref=phone.id)
    _, on_laptop = add_device(member, session_ref=laptop.id)
    alert = raise_alert(members.make())
    account.set_password_hash(member, member.password_hash, reason="password_changed", keep=laptop)
    db.session.commit()
    assert _tap(app, alert.id, on_phone).status_code == 401
    assert _tap(app, alert.id, on_laptop).status_code == 204
    admin.remove(members.coordinator(), member)
    db.session.commit()
    assert _tap(app, alert.id, on_laptop).status_code == 401


def test_logs_of_a_push_and_a_device_answer_carry_no_endpoint_key_credential_or_text(
    app, members, push_service, add_device, caplog
):
    caplog.set_level(logging.DEBUG)
    device, credential = add_device(members.make())
    alert = raise_alert(members.make())
    dispatch_due()
    db.session.commit()
    assert push_service.messages_for(device)
    assert _tap(app, alert.id, credential, "can_help").status_code == 204
    data = device.subscription()
    for secret in (device.path, data["keys"]["p256dh"], data["keys"]["auth"], credential, CANARY):
        assert secret not in caplog.text


def test_a_tap_settles_the_banner_but_is_not_reported_as_seen_in_the_app(app, members, add_device):
    """The board said "Seen in app" of a member who only tapped her phone (found by the
    review): a tap takes the banner off her pages, and the bell still counts it unread."""
    from forum.alerts.banners import banners_for
    from forum.notify.reach import reach

    raiser, helper = members.make(), members.make()
    _, credential = add_device(helper)
    alert = raise_alert(raiser)
    db.session.commit()
    assert [b.alert.id for b in banners_for(helper)] == [alert.id]
    assert _tap(app, alert.id, credential, "can_help").status_code == 204
    db.session.expire_all()
    assert banners_for(helper) == []
    seen = reach(alert.link, ("alert.raised",), [helper.id])[helper.id]
    assert seen.seen_in_app is False
    services.answer_alert(helper, alert.id, "can_help")  # then she answers on the page
    db.session.commit()
    assert reach(alert.link, ("alert.raised",), [helper.id])[helper.id].seen_in_app is True


def test_a_tap_that_waited_for_a_connection_never_undoes_a_later_answer(app, members, add_device):
    """ "I can help" tapped offline at 10:00; "Seen" chosen on the laptop at 10:05; the phone
    comes online at 12:00: the later choice stands (found by the review)."""
    from datetime import timedelta

    from forum.db import utcnow

    raiser, helper = members.make(), members.make()
    _, credential = add_device(helper)
    alert = raise_alert(raiser)
    db.session.commit()
    tapped = int((utcnow() - timedelta(minutes=30)).timestamp())
    services.answer_alert(helper, alert.id, "seen")  # on the page, after the tap
    db.session.commit()
    response = app.test_client().post(
        f"/alerts/{alert.id}/device-answer",
        json={"answer": "can_help", "tapped_at": tapped},
        headers={"Authorization": f"Bearer {credential}"},
    )
    assert response.status_code == 204
    assert _answer_of(helper.id, alert.id) == "seen"
    # A tap made after the page's answer (or one that says nothing of when) still upgrades it.
    assert _tap(app, alert.id, credential, "can_help").status_code == 204
    assert _answer_of(helper.id, alert.id) == "can_help"
    for junk in ("yesterday", 10**20, True, -5):
        bad = app.test_client().post(
            f"/alerts/{alert.id}/device-answer",
            json={"answer": "seen", "tapped_at": junk},
            headers={"Authorization": f"Bearer {credential}"},
        )
        assert bad.status_code == 204  # not believable: taken as "now", never a 500
