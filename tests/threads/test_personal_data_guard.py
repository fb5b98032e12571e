"""Before a post is saved, text that looks like a victim's personal data is pointed out; the
author keeps their text and must confirm or edit it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.threads import pii
from forum.threads.forms import PII_CONFIRM
from forum.threads.models import Post


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Her mother can be reached at +32 475 12 34 56.", "a phone number"),
        ("Call 0475/12.34.56 tonight", "a phone number"),
        ("Write to jan.peeters@example.be", "an e-mail address"),
        ("Passport AB1234567 was found", "an identity or passport number"),
        ("Refund to BE68 5390 0754 7034", "an IBAN"),
    ],
)
def test_guard_spots_personal_data(text, kind):
    assert kind in {f.kind for f in pii.scan(text)}


@pytest.mark.parametrize(
    "text",
    [
        "In 2015-2016 we supported 300 families.",
        "See https://example.org/2024/guide, section 4.2.1",
        "We met 12 times between 09:00 and 17:00.",
    ],
)
def test_guard_leaves_ordinary_practice_text_alone(text):
    assert pii.scan(text) == []


def test_reply_with_personal_data_is_kept_and_needs_confirmation(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author)
    browser = make_browser(author)
    body = "The family asked us to call +32 475 12 34 56 after the hearing."
    response = browser.post(f"/threads/{thread.id}/posts", {"body": body})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "+32 475 12 34 56 after the hearing." in page
    assert "a phone number" in page and PII_CONFIRM.replace("'", "&#39;") in page
    assert db.session.scalar(select(func.count(Post.id))) == 1
    response = browser.post(f"/threads/{thread.id}/posts", {"body": body, "confirm_pii": "y"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Post.id))) == 2


def test_new_thread_with_personal_data_in_the_title_asks_too(members, threads, make_browser):
    category = threads.category()
    browser = make_browser(members.make())
    response = browser.post(
        "/threads/new",
        {
            "title": "Contact jan@example.be",
            "body": "ok",
            "category": category.id,
            "label": "AMBER",
        },
    )
    assert response.status_code == 422
    assert "an e-mail address" in response.get_data(as_text=True)
    assert 'value="Contact jan@example.be"' in response.get_data(as_text=True)


def test_editing_into_personal_data_asks_too(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author)
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    response = make_browser(author).post(
        f"/threads/posts/{post.id}/edit", {"body": "Passport AB1234567"}
    )
    assert response.status_code == 422 and "Passport AB1234567" in response.get_data(as_text=True)
