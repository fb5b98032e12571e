"""Starting, reading, replying, quoting, editing and deleting through the web, as a member would."""

from __future__ import annotations

import re

from sqlalchemy import select

from forum.extensions import db
from forum.threads import content, reading
from forum.threads.models import Post, PostRevision, ReadState, Thread


def _thread_id(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"/threads/([0-9a-f]{32})", response.headers["Location"])
    assert match
    return match.group(1)


def test_member_starts_a_thread_and_sees_its_label_and_sharing_rule(members, make_browser, threads):
    author = members.make()
    category = threads.category()
    browser = make_browser(author)
    response = browser.post(
        "/threads/new",
        {
            "title": "Hotline staffing after the attack",
            "category": category.id,
            "label": "AMBER+STRICT",
            "tags": "hotline, staffing",
            "body": "We **doubled** shifts.",
        },
    )
    assert response.status_code == 302
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Hotline staffing after the attack" in page
    assert "TLP:AMBER+STRICT" in page
    assert "only inside your own organisation" in page
    assert "<strong>doubled</strong>" in page
    assert "#hotline" in page
    listing = browser.get("/threads").get_data(as_text=True)
    assert "Hotline staffing after the attack" in listing and "TLP:AMBER+STRICT" in listing


def test_form_with_missing_title_rerenders_with_text_kept(members, make_browser, threads):
    browser = make_browser(members.make())
    category = threads.category()
    response = browser.post(
        "/threads/new",
        {"title": "", "category": category.id, "label": "GREEN", "body": "kept body text"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "kept body text" in page and "Please give the thread a title." in page


def test_reply_quote_edit_and_history(members, make_browser, threads):
    author, other = members.make(name="Ana Author"), members.make(name="Rui Replier")
    thread = threads.start(author, body="Original first post.")
    browser = make_browser(other)
    first = db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.seq == 1))
    quoted = browser.get(f"/threads/{thread.id}?quote={first.id}").get_data(as_text=True)
    assert "&gt; **Ana Author** wrote:" in quoted
    response = browser.post(
        f"/threads/{thread.id}/posts",
        {"body": "> Original first post.\n\nAgreed.", "quote_of": first.id},
    )
    assert response.status_code == 302
    reply = db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.seq == 2))
    assert reply.quote_of_id == first.id
    response = browser.post(f"/threads/posts/{reply.id}/edit", {"body": "Agreed, with changes."})
    assert response.status_code == 302
    db.session.expire_all()
    assert content.post_source(db.session.get(Post, reply.id)) == "Agreed, with changes."
    history = browser.get(f"/threads/posts/{reply.id}/history").get_data(as_text=True)
    assert "Agreed." in history and "Agreed, with changes." in history
    revision = db.session.scalar(select(PostRevision).where(PostRevision.post_id == reply.id))
    assert b"Agreed." not in revision.body_sealed
    # Someone else may not edit it.
    assert make_browser(author).get(f"/threads/posts/{reply.id}/edit").status_code == 404


def test_author_deletes_own_reply_and_text_is_gone(members, make_browser, threads):
    author, other = members.make(), members.make()
    thread = threads.start(author)
    reply = threads.reply(other, thread, "A reply to withdraw.")
    response = make_browser(other).post(f"/threads/posts/{reply.id}/delete")
    assert response.status_code == 302
    db.session.expire_all()
    post = db.session.get(Post, reply.id)
    assert post.is_deleted and content.post_source(post) == ""
    page = make_browser(author).get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "This post was deleted." in page and "A reply to withdraw." not in page


def test_unread_marker_shows_new_posts_since_last_visit(members, make_browser, threads):
    reader, writer = members.make(), members.make()
    thread = threads.start(writer)
    browser = make_browser(reader)
    assert browser.get(f"/threads/{thread.id}").status_code == 200
    state = db.session.get(ReadState, (reader.id, thread.id))
    assert state.last_seq == 1
    threads.reply(writer, thread, "Second post, new to the reader.")
    listing = browser.get("/threads").get_data(as_text=True)
    assert "1 new" in listing
    page = browser.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert page.index("New since your last visit") < page.index("Second post, new to the reader.")
    db.session.expire_all()
    assert db.session.get(ReadState, (reader.id, thread.id)).last_seq == 2
    again = browser.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "New since your last visit" not in again


def test_pagination_by_post_sequence(members, make_browser, threads, app):
    author = members.make()
    thread = threads.start(author, body="post number 1")
    from datetime import UTC, datetime

    from forum.threads import services

    services.bulk_add_posts(
        thread,
        [author],
        [f"post number {i}" for i in range(2, 46)],
        start_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    db.session.commit()
    assert reading.page_count(db.session.get(Thread, thread.id)) == 3
    browser = make_browser(members.make())
    page2 = browser.get(f"/threads/{thread.id}?page=2").get_data(as_text=True)
    assert "post number 21<" in page2 and "post number 40<" in page2
    assert "post number 20<" not in page2 and "post number 41<" not in page2
    assert "Page 2 of 3" in page2
    # A new reader starts on page 1; after reading page 3 they come back to the last page.
    browser.get(f"/threads/{thread.id}?page=3")
    assert "Page 3 of 3" in browser.get(f"/threads/{thread.id}").get_data(as_text=True)


def test_thread_list_pages_by_cursor_with_pinned_first(members, make_browser, threads):
    from flask import current_app

    from forum.threads import moderation

    current_app.config["EXCHANGE"]["limits"]["threads_per_hour"] = 0  # 35 threads by one author
    author, coordinator = members.make(), members.coordinator()
    started = [threads.start(author, title=f"Listed thread {n:02d}") for n in range(35)]
    moderation.set_pinned(coordinator=coordinator, thread=started[0], pinned=True)
    db.session.commit()
    browser = make_browser(members.make())
    first = browser.get("/threads").get_data(as_text=True)
    assert first.index("Listed thread 00") < first.index("Listed thread 34")
    cursor = re.search(r'href="\?after=([^"]+)"', first).group(1).replace("&amp;", "&")
    second = browser.get(f"/threads?after={cursor}")
    assert second.status_code == 200
    seen_first = set(re.findall(r"Listed thread (\d\d)", first))
    seen_second = set(re.findall(r"Listed thread (\d\d)", second.get_data(as_text=True)))
    assert len(seen_first) == 30 and len(seen_second) == 5
    assert seen_first | seen_second == {f"{n:02d}" for n in range(35)}
