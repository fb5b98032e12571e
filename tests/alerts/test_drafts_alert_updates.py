"""An alert update typed when the session timed out is kept as the raiser's draft, comes back
on the alert's page after sign-in, and is discarded once the update is posted."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select, update

from forum.db import utcnow
from forum.drafts.models import Draft
from forum.extensions import db
from forum.members.models import MemberSession


def test_an_alert_update_after_the_timeout_is_kept_and_restored(members, raise_, make_browser):
    raiser = members.make()
    alert = raise_(raiser)
    browser = make_browser(raiser)
    key = f"alert-update:{alert.id}"
    assert f'data-draft-key="{key}"' in browser.get(f"/alerts/{alert.id}").get_data(as_text=True)
    db.session.execute(
        update(MemberSession)
        .where(MemberSession.member_id == raiser.id)
        .values(last_seen_at=utcnow() - timedelta(days=1))
    )
    db.session.commit()
    response = browser.post(f"/alerts/{alert.id}/updates", {"text": "Hotline open at 14:00"})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [f"/alerts/{alert.id}"]
    browser.sign_in_as(raiser)
    assert browser.get(f"/drafts/text?key={key}").get_json() == {"text": "Hotline open at 14:00"}
    assert browser.post(f"/alerts/{alert.id}/updates", {"text": "Hotline open"}).status_code == 303
    assert db.session.scalars(select(Draft).where(Draft.member_id == raiser.id)).all() == []
