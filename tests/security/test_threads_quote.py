"""A quote comes only from the thread being answered, and only from a post the member may read:
a crafted `?quote=<RED post id>` never pre-fills RED text into an AMBER reply."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.threads import services
from forum.threads.models import Post
from tests.support.threads import Threads


@pytest.fixture
def threads(app) -> Threads:  # type: ignore[no-untyped-def]
    """Threads built through the service (as in tests/threads)."""
    return Threads()


RED_TEXT = "Only for the three of us: the family moved to the safe house"


def _first_post(thread_id: str) -> Post:
    return db.session.scalars(select(Post).where(Post.thread_id == thread_id, Post.seq == 1)).one()


def test_red_post_is_not_prefilled_into_an_amber_reply(members, threads, make_browser):
    author = members.make()
    red = threads.start(author, label="RED", title="Red", body=RED_TEXT)
    amber = threads.start(author, label="AMBER", title="Amber")
    red_post = _first_post(red.id)
    page = make_browser(author).get(f"/threads/{amber.id}?quote={red_post.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "safe house" not in text
    assert red_post.id not in text


def test_quote_from_the_same_thread_is_prefilled(members, threads, make_browser):
    author = members.make()
    amber = threads.start(author, body="Keep the first call short and kind.")
    post = _first_post(amber.id)
    text = make_browser(members.make()).get(f"/threads/{amber.id}?quote={post.id}")
    assert "Keep the first call short and kind." in text.get_data(as_text=True)


def test_the_service_refuses_a_quote_from_another_thread(members, threads):
    author = members.make()
    red = threads.start(author, label="RED", title="Red", body=RED_TEXT)
    amber = threads.start(author, label="AMBER", title="Amber")
    red_post = _first_post(red.id)
    assert services.quote_for(author, amber, red_post.id) is None
    reply = services.reply(
        author=author, thread=amber, body="ok", quote_of=red_post, pii_confirmed=True
    )
    assert reply.quote_of_id is None


def test_a_hidden_post_is_not_quoted_by_a_member_who_cannot_see_it(members, threads):
    author, reader = members.make(), members.make()
    amber = threads.start(author, body="Hidden later")
    post = _first_post(amber.id)
    post.is_hidden = True
    db.session.commit()
    assert services.quote_for(reader, amber, post.id) is None
