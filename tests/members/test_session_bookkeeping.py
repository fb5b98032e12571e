"""Session bookkeeping (last seen, timeouts) never stands in the way of the request itself."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from forum.db import utcnow
from forum.extensions import db
from forum.members.models import MemberSession


def test_a_post_by_a_member_due_for_a_touch_succeeds_and_the_touch_is_recorded(
    members, make_browser
):
    # Every POST takes SQLite's write lock up front; a touch written on a second connection
    # inside the request would wait on that very lock until the busy timeout, then fail.
    member = members.make()
    browser = make_browser(member)
    token = browser.csrf_token()  # before the session goes stale: the POST itself must touch it
    stale = utcnow() - timedelta(minutes=5)
    db.session.execute(update(MemberSession).values(last_seen_at=stale))
    db.session.commit()
    response = browser.post("/notifications/read-all", {"csrf_token": token})
    assert response.status_code in (302, 303)
    seen = db.session.scalar(
        select(MemberSession.last_seen_at).where(MemberSession.member_id == member.id)
    )
    assert seen > stale + timedelta(minutes=4)


def test_a_session_past_its_idle_limit_is_ended_and_its_browser_sent_to_sign_in(
    members, make_browser, app
):
    member = members.make()
    browser = make_browser(member)
    token = browser.csrf_token()
    idle = app.config["EXCHANGE"]["security"]["session_idle_minutes"]
    db.session.execute(
        update(MemberSession).values(last_seen_at=utcnow() - timedelta(minutes=idle + 1))
    )
    db.session.commit()
    response = browser.post("/notifications/read-all", {"csrf_token": token})
    assert response.status_code in (302, 303) and "/sign-in" in response.headers["Location"]
    row = db.session.scalars(
        select(MemberSession).where(MemberSession.member_id == member.id)
    ).one()
    assert row.ended_at is not None and row.end_reason == "timeout"
