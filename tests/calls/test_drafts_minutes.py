"""Minutes typed when the organiser's session timed out are kept as a draft, come back on the
minutes form after sign-in, and are discarded once the minutes are saved."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from forum.db import utcnow
from forum.drafts.models import Draft
from forum.extensions import db
from forum.members.models import MemberSession
from tests.calls.test_minutes import first, organiser_of


def test_minutes_after_the_timeout_are_kept_and_restored(monthly, make_browser):
    occurrence, organiser = first(monthly), organiser_of(monthly)
    browser = make_browser(organiser)
    form_url = f"/calls/occurrences/{occurrence.id}/minutes"
    key = f"minutes:{occurrence.id}"
    assert f'data-draft-key="{key}"' in browser.get(form_url).get_data(as_text=True)
    db.session.execute(
        update(MemberSession)
        .where(MemberSession.member_id == organiser.id)
        .values(last_seen_at=utcnow() - timedelta(days=1))
    )
    db.session.commit()
    response = browser.post(form_url, {"body": "# Decisions\n\nWe agreed.", "label": "AMBER"})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [form_url]
    browser.sign_in_as(organiser)
    assert browser.get(f"/drafts/text?key={key}").get_json() == {
        "text": "# Decisions\n\nWe agreed."
    }
    no_actions = {f"actions-{n}-{part}": "" for n in range(5) for part in ("text", "owner")}
    saved = browser.post(
        form_url, {"body": "# Decisions\n\nWe agreed.", "label": "AMBER", **no_actions}
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[-3000:]
    assert db.session.scalars(select(Draft).where(Draft.member_id == organiser.id)).all() == []
