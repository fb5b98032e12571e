"""In Debian's Chromium: a reply is saved as a draft while it is typed, comes back after a
reload, survives a post on a timed-out session and sign-in, and is gone once posted; no script
error or policy violation on the way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from forum.db import utcnow
from forum.drafts.models import Draft
from forum.extensions import db
from forum.members.models import MemberSession
from forum.threads import services
from tests.browser.test_threads_red import _sign_in
from tests.support.live import LiveServer
from tests.support.members import Members

pytestmark = pytest.mark.browser


def _draft_count(member_id: str) -> int:
    db.session.commit()  # a fresh transaction sees what the server committed
    return len(db.session.scalars(select(Draft.id).where(Draft.member_id == member_id)).all())


def test_a_reply_draft_is_saved_restored_and_survives_the_timeout(
    page: Any, live_server: LiveServer, live_members: Members
) -> None:
    category = services.ensure_default_categories()[0]
    author = live_members.make(name="Dora Drafter")
    thread = services.start_thread(
        author=author,
        category=category,
        title="Drafts in Chromium",
        body="Opening post.",
        label="AMBER",
    )
    db.session.commit()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    _sign_in(page, live_server, author)
    page.goto(live_server.link(f"/threads/{thread.id}"))
    page.fill("#body", "Half a reply about interpreters")
    page.wait_for_selector(".draft-status:has-text('Draft saved.')")
    assert _draft_count(author.id) == 1

    page.reload()
    # The draft comes back from the server after the page loads: wait for it as a person would.
    expect(page.locator("#body")).to_have_value("Half a reply about interpreters")
    expect(page.locator(".draft-status")).to_contain_text("restored")

    page.fill("#body", "The whole reply about interpreters")
    db.session.execute(
        update(MemberSession)
        .where(MemberSession.member_id == author.id)
        .values(last_seen_at=utcnow() - timedelta(days=1))
    )
    db.session.commit()
    page.click("#reply button[type=submit]")
    page.wait_for_url("**/sign-in**")
    assert "was kept as a draft" in page.content()
    back = parse_qs(urlsplit(page.url).query)["next"][0]
    assert back == f"/threads/{thread.id}"

    page.context.clear_cookies()
    _sign_in(page, live_server, author)
    page.goto(live_server.link(back))
    expect(page.locator("#body")).to_have_value("The whole reply about interpreters")
    page.click("#reply button[type=submit]")
    page.wait_for_selector("#post-2")
    assert "The whole reply about interpreters" in page.locator("#post-2").inner_text()
    assert _draft_count(author.id) == 0
    assert problems == []
