"""The calls pages in Debian's Chromium: preview before saving, then RSVP — no script needed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from forum.calls.models import CallResponse, CallSeries, Occurrence
from forum.extensions import db
from forum.members.sessions import SESSION_KEY, start_session
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser


def sign_in(page: Any, live_server: LiveServer, member: Any) -> None:
    token = start_session(member)
    db.session.commit()
    serializer = live_server.app.session_interface.get_signing_serializer(live_server.app)
    page.context.add_cookies(
        [
            {
                "name": "exchange_session",
                "value": serializer.dumps({SESSION_KEY: token}),
                "url": live_server.url,
            }
        ]
    )


def test_coordinator_previews_six_dates_in_both_zones_saves_and_a_member_answers(
    page: Any, live_server: LiveServer, live_members: Any
) -> None:
    coordinator = live_members.coordinator(name="Ana Coordinator", timezone="America/New_York")
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    sign_in(page, live_server, coordinator)
    page.goto("/calls")
    page.click("text=New call series")
    page.fill("input[name=title]", "INVICTM monthly call")
    page.fill("textarea[name=joining_details]", "Dial-in +32 2 555 0199, code 483920#")
    page.select_option("select[name=pattern]", "nth_weekday")
    page.select_option("select[name=ordinal]", "2")
    page.select_option("select[name=weekday]", "3")
    page.fill("input[name=time_of_day]", "14:00")
    page.select_option("select[name=timezone]", "Europe/Brussels")
    page.fill("input[name=starts_on]", "2027-01-01")
    page.click("input[name=preview]")
    preview = page.locator("section.preview")
    assert "the second Thursday of every month at 14:00 Europe/Brussels" in preview.inner_text()
    rows = preview.locator("tbody tr")
    assert rows.count() == 6
    first_row = rows.first.inner_text()
    assert "Thu 14 Jan 2027, 14:00 CET" in first_row and "08:00 EST" in first_row
    assert db.session.scalars(select(CallSeries)).all() == []
    page.click("input[name=save]")
    page.wait_for_url("**/calls/series/*")
    db.session.rollback()  # end the read snapshot: see what the server committed
    series = db.session.scalars(select(CallSeries)).one()
    assert series.title == "INVICTM monthly call"
    occurrence = db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()

    member = live_members.make(name="Lotte Peeters", country="BE", timezone="Asia/Tokyo")
    # Leave the coordinator's page first: its live stream or a late fetch could otherwise answer
    # with a Set-Cookie after the switch and put the browser back on the coordinator's session.
    page.goto("about:blank")
    page.context.clear_cookies()
    sign_in(page, live_server, member)
    page.goto(f"/calls/occurrences/{occurrence.id}")
    assert "483920" in page.locator("#joining").inner_text()
    assert "Thu 14 Jan 2027, 22:00 JST" in page.locator("p.when").inner_text()
    page.check("input[name=answer][value=attending]")
    page.click("#rsvp input[type=submit]")
    page.wait_for_selector("text=Your answer: Attending")
    assert "Lotte Peeters" in page.locator("#rsvp").inner_text()
    db.session.rollback()  # end the read snapshot: see what the server committed
    assert db.session.scalars(select(CallResponse.answer)).all() == ["attending"]
    assert problems == [], f"console errors or failed requests: {problems}"
