"""Flags, hiding, locking, pinning, moving and label changes: who may, and the audit log."""

from __future__ import annotations

import json

from sqlalchemy import select

from forum.extensions import db
from forum.markup import tlp
from forum.security.audit import AuditEvent
from forum.threads.models import Category, Flag, Post, Thread


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_member_flags_a_post_and_coordinator_hides_it_audited(members, threads, make_browser):
    author, reporter, coordinator = members.make(), members.make(), members.coordinator()
    thread = threads.start(author, body="A doubtful post")
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    response = make_browser(reporter).post(
        f"/threads/posts/{post.id}/flag", {"reason": "Names a victim"}
    )
    assert response.status_code == 302
    flag = db.session.scalar(select(Flag))
    assert b"Names a victim" not in flag.reason_sealed
    coordinator_browser = make_browser(coordinator)
    page = coordinator_browser.get("/threads/flags").get_data(as_text=True)
    assert "Names a victim" in page
    assert make_browser(reporter).get("/threads/flags").status_code == 403
    assert coordinator_browser.post(f"/threads/flags/{flag.id}/hide").status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).is_hidden
    assert _audit("threads.post_flagged") and _audit("threads.post_hidden")
    assert json.loads(_audit("threads.flag_resolved")[0].details)["result"] == "hidden"
    other = make_browser(members.make()).get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "A doubtful post" not in other and "hidden by a coordinator" in other
    own = make_browser(author).get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "A doubtful post" in own


def test_empty_flag_reason_rerenders_in_plain_words(members, threads, make_browser):
    thread = threads.start(members.make())
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    response = make_browser(members.make()).post(f"/threads/posts/{post.id}/flag", {"reason": ""})
    assert response.status_code == 422 and "Please give a reason." in response.get_data(
        as_text=True
    )


def test_coordinator_locks_pins_and_moves_a_thread_each_audited(members, threads, make_browser):
    author, coordinator = members.make(), members.coordinator()
    thread = threads.start(author)
    target = db.session.scalar(select(Category).where(Category.slug == "good-practice"))
    browser = make_browser(coordinator)
    assert browser.post(f"/threads/{thread.id}/moderate/lock").status_code == 302
    assert browser.post(f"/threads/{thread.id}/moderate/pin").status_code == 302
    assert (
        browser.post(f"/threads/{thread.id}/moderate/move", {"category": target.id}).status_code
        == 302
    )
    db.session.expire_all()
    moved = db.session.get(Thread, thread.id)
    assert moved.is_locked and moved.is_pinned and moved.category_id == target.id
    for action in ("threads.locked", "threads.pinned", "threads.moved"):
        assert _audit(action), action
    response = make_browser(author).post(f"/threads/{thread.id}/posts", {"body": "late reply"})
    assert response.status_code == 422 and "locked" in response.get_data(as_text=True)


def test_member_cannot_moderate(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author)
    browser = make_browser(author)
    assert browser.post(f"/threads/{thread.id}/moderate/lock").status_code == 404
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    assert browser.post(f"/threads/posts/{post.id}/hide").status_code == 404
    assert browser.post("/threads/categories", {"name": "Mine"}).status_code == 403


def test_lowering_a_label_needs_confirmation_and_is_audited(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author, label=tlp.AMBER)
    browser = make_browser(author)
    response = browser.post(f"/threads/{thread.id}/label", {"label": "CLEAR"})
    assert response.status_code == 422 and "Tick the box" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Thread, thread.id).label == tlp.AMBER
    response = browser.post(
        f"/threads/{thread.id}/label", {"label": "CLEAR", "confirm_lowering": "y"}
    )
    assert response.status_code == 302
    event = _audit("threads.label_lowered")[0]
    assert json.loads(event.details) == {"from_label": "AMBER", "to_label": "CLEAR"}
    assert event.actor_id == author.id and event.target_id == thread.id


def test_raising_a_label_needs_no_confirmation_and_raising_to_red_keeps_posters(
    members, threads, make_browser
):
    author, replier, bystander = members.make(), members.make(), members.make()
    thread = threads.start(author, label=tlp.GREEN)
    threads.reply(replier, thread, "I was here")
    response = make_browser(author).post(f"/threads/{thread.id}/label", {"label": "RED"})
    assert response.status_code == 302
    assert _audit("threads.label_raised")
    assert make_browser(replier).get(f"/threads/{thread.id}").status_code == 200
    assert make_browser(bystander).get(f"/threads/{thread.id}").status_code == 404


def test_coordinator_creates_a_category(members, make_browser):
    browser = make_browser(members.coordinator())
    response = browser.post("/threads/categories", {"name": "Research", "description": "Papers"})
    assert response.status_code == 302
    assert db.session.scalar(select(Category).where(Category.slug == "research")) is not None
    assert _audit("threads.category_created")
