"""A device's push subscription (and the answer credential it holds) lives exactly as long as
the sign-in it was made in: it ends when that browser signs out, when the member signs out
everywhere else (for the others), changes password, is suspended or is removed — and an ended
device is sent nothing more."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from forum.crypto import envelope
from forum.extensions import db
from forum.members import admin
from forum.notify import subscriptions
from forum.notify.models import OutboxMessage, PushSubscription
from forum.notify.outbox import notify
from tests.support.clients import Browser
from tests.support.pwa import browser_subscription

SUBSCRIBE = "/notifications/push/subscribe"


def _subscribe(app: Any, browser: Browser) -> str:
    """Subscribe this browser as the page does; returns its answer credential."""
    app.config["EXCHANGE"]["push"]["allow_hosts"] = "127.0.0.1"
    response = browser._run(
        browser.client.post,
        SUBSCRIBE,
        json=browser_subscription(),
        headers={"X-CSRFToken": browser.csrf_token(), "Accept": "application/json"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["credential"])


def _live(member: Any) -> list[PushSubscription]:
    db.session.expire_all()
    return subscriptions.live_subscriptions(member.id)


def _push_rows_for(member: Any) -> int:
    notify(
        [member],
        event_key=f"probe:{len(_live(member))}:{envelope.new_data_key('probe').id}",
        kind="thread_mention",
        text="probe",
        key=envelope.new_data_key("thread"),
        link="/threads/x",
        email_subject="You were mentioned",
    )
    db.session.commit()
    return len(
        list(
            db.session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.channel == "push", OutboxMessage.member_id == member.id
                )
            )
        )
    )


def test_signing_out_ends_that_browsers_device_only(app, members, make_browser):
    member = members.make()
    phone, laptop = make_browser(member), make_browser(member)
    phone_credential = _subscribe(app, phone)
    laptop_credential = _subscribe(app, laptop)
    assert len(_live(member)) == 2

    phone.post("/sign-out")
    [left] = _live(member)
    assert subscriptions.credential_owner(phone_credential) is None
    owner = subscriptions.credential_owner(laptop_credential)
    assert owner is not None and owner.subscription_id == left.id
    ended = db.session.scalar(select(PushSubscription).where(PushSubscription.id != left.id))
    assert ended.end_reason == "signed out" and ended.subscription_sealed is not None
    assert _push_rows_for(member) == 1  # the laptop only


def test_signing_out_everywhere_else_ends_the_other_devices(app, members, make_browser):
    member = members.make()
    here, elsewhere = make_browser(member), make_browser(member)
    kept = _subscribe(app, here)
    gone = _subscribe(app, elsewhere)
    response = here.post("/account/sessions/end-others")
    assert response.status_code in (302, 303)
    assert subscriptions.credential_owner(gone) is None
    assert subscriptions.credential_owner(kept) is not None
    assert len(_live(member)) == 1


def test_suspension_and_removal_end_every_device(app, members, make_browser):
    coordinator = members.coordinator()
    suspended, removed = members.make(), members.make()
    credentials = [_subscribe(app, make_browser(suspended)), _subscribe(app, make_browser(removed))]
    admin.suspend(coordinator, suspended)
    admin.remove(coordinator, removed)
    db.session.commit()
    assert all(subscriptions.credential_owner(c) is None for c in credentials)
    assert _live(suspended) == [] and _live(removed) == []
    reasons = set(db.session.scalars(select(PushSubscription.end_reason)))
    assert reasons == {"suspended", "removed"}


def test_a_device_whose_sign_in_timed_out_ends_when_she_signs_out_everywhere_else(
    app, members, make_browser
):
    from forum.db import utcnow
    from forum.members.models import MemberSession

    member = members.make()
    lost, here = make_browser(member), make_browser(member)
    lost_credential = _subscribe(app, lost)
    kept = _subscribe(app, here)
    owner = subscriptions.credential_owner(lost_credential)
    assert owner is not None
    device = db.session.get(PushSubscription, owner.subscription_id)
    timed_out = db.session.get(MemberSession, device.session_ref)
    timed_out.ended_at, timed_out.end_reason = utcnow(), "timeout"  # the idle sweep's doing
    db.session.commit()

    here.post("/account/sessions/end-others")
    assert subscriptions.credential_owner(lost_credential) is None
    assert subscriptions.credential_owner(kept) is not None
