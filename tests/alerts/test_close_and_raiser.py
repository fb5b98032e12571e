"""Closed alerts leave no banner (item 7); the raiser is not asked to answer her own alert (item 8)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.alerts import coordination, escalation, services
from forum.db import utcnow
from forum.extensions import db
from forum.notify.live import LiveEvent
from forum.notify.models import Notification


def _banner_links(browser) -> list[str]:
    """The alert links of the banners a page shows (rendered by the server)."""
    html = browser.get("/").get_data(as_text=True)
    start = html.index('id="live-banner"')
    end = html.index("</section>", start)
    area = html[start:end]
    return [part.split('"', 1)[0] for part in area.split('data-alert-link="')[1:]]


def test_an_open_alert_shows_its_banner_on_every_page_until_it_is_resolved(
    members, raise_, make_browser
):
    raiser = members.make()
    silent = members.make()
    alert = raise_(raiser)
    browser = make_browser(silent)
    assert _banner_links(browser) == [alert.link]

    coordination.resolve(raiser, alert.id, "All accounted for")
    db.session.commit()

    assert _banner_links(browser) == []
    assert browser.get("/live/poll").get_json()["urgent"] == []
    page = browser.get(alert.link).get_data(as_text=True)
    assert "answers are closed" in page
    assert 'data-alert-link="' not in page


def test_closing_an_alert_tells_open_pages_over_the_live_channel(members, raise_):
    raiser = members.make()
    members.make()
    alert = raise_(raiser)
    coordination.resolve(raiser, alert.id)
    db.session.commit()
    topics = set(db.session.scalars(select(LiveEvent.topic)))
    assert "alerts:closed" in topics


def test_the_raiser_gets_no_banner_and_no_urgent_notification_for_her_own_alert(
    members, raise_, make_browser
):
    raiser = members.make()
    members.make()
    alert = raise_(raiser)
    browser = make_browser(raiser)
    assert _banner_links(browser) == []
    assert browser.get("/live/poll").get_json()["urgent"] == []
    mine = db.session.scalars(select(Notification).where(Notification.member_id == raiser.id)).all()
    assert mine == []
    page = browser.get(alert.link).get_data(as_text=True)
    assert "You raised this alert" in page
    assert 'value="can_help"' not in page


def test_the_raiser_is_shown_as_the_raiser_on_the_board_not_as_waiting(
    members, raise_, make_browser
):
    raiser = members.make(name="Rita Raiser")
    waiting = members.make(name="Walt Waiting")
    alert = raise_(raiser)
    board = services.board(raiser, alert.id)
    assert [row.member.id for row in board.waiting] == [waiting.id]
    text = make_browser(raiser).get(f"/alerts/{alert.id}/board").get_data(as_text=True)
    assert "Raised by Rita Raiser" in text
    waiting_table = text[text.index('class="board-waiting"') :]
    assert "Rita Raiser" not in waiting_table and "Walt Waiting" in waiting_table


def test_the_raiser_is_not_reminded_when_the_alert_escalates(members, raise_, app):
    raiser = members.make()
    other = members.make()
    alert = raise_(raiser)
    later = utcnow() + timedelta(hours=3)
    escalation.escalate_alert(alert, now=later)
    db.session.commit()
    reminded = set(
        db.session.scalars(
            select(Notification.member_id).where(Notification.kind == "alert.reminder")
        )
    )
    assert reminded == {other.id}
