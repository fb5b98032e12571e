"""Nothing typed is lost: drafts of new threads and replies are kept sealed on the server, also
when the post arrives after the session timed out, come back only to their author after sign-in,
and are gone (crypto-shredded) when the post is made or the member is erased."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from forum.crypto.models import DataKey
from forum.db import utcnow
from forum.drafts.models import Draft
from forum.extensions import db
from forum.members import admin
from forum.members.models import MemberSession
from forum.threads.models import Post

CANARY = "Kestrelwing reply about the reunification centre"


def _time_out(member) -> None:  # type: ignore[no-untyped-def]
    db.session.execute(
        update(MemberSession)
        .where(MemberSession.member_id == member.id)
        .values(last_seen_at=utcnow() - timedelta(days=1))
    )
    db.session.commit()


def _drafts(member) -> list[Draft]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(Draft).where(Draft.member_id == member.id)))


def test_a_reply_posted_after_the_idle_timeout_is_kept_and_restored_after_sign_in(
    members, threads, make_browser
):
    author = members.make()
    thread = threads.start(author, title="Reunification", body="Opening post.")
    browser = make_browser(author)
    assert 'data-draft-key="reply:' in browser.get(f"/threads/{thread.id}").get_data(as_text=True)
    _time_out(author)
    response = browser.post(f"/threads/{thread.id}/posts", {"body": CANARY})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    assert parse_qs(location.query)["next"] == [f"/threads/{thread.id}"]  # a GET page
    assert (
        db.session.scalar(select(Post.id).where(Post.thread_id == thread.id, Post.seq == 2)) is None
    )
    [draft] = _drafts(author)
    key_id = draft.dek_id
    assert draft.form_key == f"reply:{thread.id}"
    assert CANARY.encode() not in draft.body_sealed and b"Kestrelwing" not in draft.body_sealed
    assert "was kept as a draft" in browser.get("/sign-in").get_data(as_text=True)

    browser.sign_in_as(author)
    restored = browser.get(f"/drafts/text?key=reply:{thread.id}")
    assert restored.get_json() == {"text": CANARY}
    assert restored.headers["Cache-Control"] == "no-store"
    posted = browser.post(f"/threads/{thread.id}/posts", {"body": CANARY})
    assert posted.status_code == 302
    assert _drafts(author) == []
    assert db.session.get(DataKey, key_id).wrapped is None  # shredded, not just deleted


def test_a_new_thread_posted_after_the_timeout_comes_back_to_the_new_thread_page(
    members, threads, make_browser
):
    author = members.make()
    category = threads.category()
    browser = make_browser(author)
    _time_out(author)
    response = browser.post(
        "/threads/new", {"title": "T", "category": category.id, "label": "AMBER", "body": CANARY}
    )
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/threads/new"]
    browser.sign_in_as(author)
    assert browser.get("/drafts/text?key=new-thread").get_json() == {"text": CANARY}
    assert 'data-draft-key="new-thread"' in browser.get("/threads/new").get_data(as_text=True)


def test_drafts_never_reach_another_member(members, threads, make_browser):
    author, other = members.make(), members.make()
    thread = threads.start(author, title="Shared", body="Opening post.")
    key = f"reply:{thread.id}"
    mine = make_browser(author)
    assert mine.post("/drafts/text", {"key": key, "text": CANARY}).status_code == 200
    theirs = make_browser(other)
    assert theirs.get(f"/drafts/text?key={key}").get_json() == {"text": None}
    # The same browser, after the author's session timed out, signed in by someone else.
    _time_out(author)
    mine.post(f"/threads/{thread.id}/posts", {"body": "second text"})
    mine.sign_in_as(other)
    assert mine.get(f"/drafts/text?key={key}").get_json() == {"text": None}
    mine.sign_in_as(author)
    assert mine.get(f"/drafts/text?key={key}").get_json() == {"text": "second text"}


def test_a_post_after_signing_out_keeps_no_draft(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author, title="Shared", body="Opening post.")
    browser = make_browser(author)
    db.session.execute(
        update(MemberSession)
        .where(MemberSession.member_id == author.id)
        .values(ended_at=utcnow(), end_reason="suspended")
    )
    db.session.commit()
    response = browser.post(f"/threads/{thread.id}/posts", {"body": CANARY})
    assert response.status_code == 302 and _drafts(author) == []


def test_autosave_needs_csrf_and_a_known_form_key(members, make_browser):
    author = members.make()
    browser = make_browser(author)
    assert (
        browser.post(
            "/drafts/text", {"key": "new-thread", "text": "x", "csrf_token": "forged"}
        ).status_code
        == 400
    )
    assert browser.post("/drafts/text", {"key": "../etc", "text": "x"}).status_code == 400
    assert browser.post("/drafts/text", {"key": "new-thread", "text": "kept"}).status_code == 200
    assert browser.post("/drafts/text", {"key": "new-thread", "text": "  "}).status_code == 200
    assert _drafts(author) == []  # an emptied form discards its draft
    anonymous = make_browser()
    assert anonymous.get("/drafts/text?key=new-thread").status_code == 401


def test_erasing_a_member_crypto_shreds_their_drafts(members, make_browser):
    coordinator, leaving = members.coordinator(), members.make()
    browser = make_browser(leaving)
    browser.post("/drafts/text", {"key": "new-thread", "text": CANARY})
    [draft] = _drafts(leaving)
    key_id = draft.dek_id
    admin.remove(coordinator, leaving)
    db.session.commit()
    assert _drafts(leaving) == []
    assert db.session.get(DataKey, key_id).wrapped is None
