"""In Debian's Chromium: deleting a post asks "Delete this post?" once, and one "OK" deletes it."""

from __future__ import annotations

from typing import Any

import pytest

from forum.extensions import db
from forum.threads import services
from tests.browser.test_threads_red import _sign_in
from tests.support.live import LiveServer
from tests.support.members import Members

pytestmark = pytest.mark.browser


def test_deleting_a_post_asks_once(page: Any, live_server: LiveServer, live_members: Members):
    category = services.ensure_default_categories()[0]
    author = live_members.make(name="Dora Deleter")
    thread = services.start_thread(
        author=author, category=category, title="Confirm once", body="First post", label="AMBER"
    )
    services.reply(author=author, thread=thread, body="A reply to withdraw", pii_confirmed=True)
    db.session.commit()
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    _sign_in(page, live_server, author)
    page.goto(live_server.link(f"/threads/{thread.id}"))
    page.locator("#post-2 form[data-confirm] button").click()
    page.wait_for_selector("#post-2 >> text=This post was deleted.")
    assert questions == ["Delete this post?"]


def test_title_and_post_show_a_counter_and_nothing_typed_is_cut(
    page: Any, live_server: LiveServer, live_members: Members
):
    services.ensure_default_categories()
    db.session.commit()
    author = live_members.make(name="Tess Typist")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _sign_in(page, live_server, author)
    page.goto(live_server.link("/threads/new"))
    long_title = "x" * 230
    page.fill("#title", long_title)
    assert page.input_value("#title") == long_title  # not cut at 200
    assert page.locator("#title-counter").inner_text() == "230 of 200 characters: 30 too many"
    page.fill("#body", "Short.")
    assert page.locator("#body-counter").inner_text() == "6 of 60,000 characters"
    assert not problems, problems
