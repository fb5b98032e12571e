"""Issue 10, item 13 (calls) in Debian's Chromium: pressing Answer without a choice shows the
Exchange's own sentence at the field, in view, on a phone-sized screen."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from forum.calls import services
from forum.calls.models import Occurrence
from forum.db import utcnow
from forum.extensions import db
from tests.browser.test_calls_preview import sign_in
from tests.support.calls import monthly_fields
from tests.support.live import LiveServer

pytestmark = pytest.mark.browser


def test_an_rsvp_without_a_choice_answers_in_plain_words_at_the_field(
    page: Any, live_server: LiveServer, live_members: Any
) -> None:
    coordinator = live_members.coordinator(name="Ana Coordinator")
    series = services.create_series(
        actor=coordinator, fields=monthly_fields(starts_at=utcnow()), now=utcnow()
    )
    db.session.commit()
    occurrence = db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()
    sign_in(page, live_server, live_members.make(name="Lotte Peeters"))
    page.set_viewport_size({"width": 390, "height": 740})
    page.goto(f"/calls/occurrences/{occurrence.id}")
    page.click("#rsvp input[type=submit]")
    error = page.locator("#rsvp .field-error")
    error.wait_for()
    assert error.inner_text() == "Choose an answer."
    box = error.bounding_box()
    assert box is not None and 0 <= box["y"] <= 740 - box["height"], "the sentence is in view"
