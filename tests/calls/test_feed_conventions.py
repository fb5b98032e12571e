"""Calendar conventions: an ORGANIZER on every event, CANCEL for a cancelled call's download,
one-click subscription links, and the feed's own revalidation headers (signed-in pages keep
no-store)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar
from sqlalchemy import select

from forum.calls import ical, occurrences
from forum.calls.models import Occurrence
from forum.extensions import db
from forum.members.models import Member


@pytest.fixture
def sender(app) -> str:
    """The configured mail sender (mail.from_address): the neutral organiser of every call."""
    return str(app.config["EXCHANGE"]["mail"]["from_address"])


def first(series) -> Occurrence:
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


def feed_path(member) -> str:
    token = ical.issue_feed_token(member)
    db.session.commit()
    return f"/calls/feed/{token}.ics"


def test_every_event_has_a_neutral_organizer_and_no_members_address(
    monthly, members, browser, make_browser, sender
):
    member = members.make(email="confidential.member@example.org")
    coordinator = db.session.get(Member, monthly.created_by_id)
    body = browser.get(feed_path(member)).data
    events = Calendar.from_ical(body).walk("VEVENT")
    assert len(events) == 6
    for event in events:
        assert str(event["ORGANIZER"]) == f"mailto:{sender}"
        assert event["ORGANIZER"].params["CN"] == "INVICTM Exchange"
        # The member answers on the Exchange, not by an e-mail reply to the sender address.
        assert event["ATTENDEE"].params["RSVP"] == "FALSE"
    download = make_browser(member).get(f"/calls/occurrences/{first(monthly).id}.ics").data
    assert str(Calendar.from_ical(download).walk("VEVENT")[0]["ORGANIZER"]) == f"mailto:{sender}"
    for text in (body, download):
        unfolded = text.decode().replace("\r\n ", "")
        assert coordinator.email not in unfolded and member.email not in unfolded
        assert "Ana Coordinator" not in unfolded


def test_the_download_of_a_cancelled_call_is_a_cancel_with_its_uid_and_sequence(
    monthly, members, make_browser, sender
):
    member = members.make()
    coordinator = db.session.get(Member, monthly.created_by_id)
    one = first(monthly)
    signed_in = make_browser(member)
    before = Calendar.from_ical(signed_in.get(f"/calls/occurrences/{one.id}.ics").data)
    assert str(before["METHOD"]) == "PUBLISH"
    occurrences.cancel_occurrence(one, actor=coordinator)
    db.session.commit()
    response = signed_in.get(f"/calls/occurrences/{one.id}.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{one.id}@invictm-exchange"
    assert int(event["SEQUENCE"]) == int(before.walk("VEVENT")[0]["SEQUENCE"]) + 1
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["ORGANIZER"]) == f"mailto:{sender}"
    assert str(event["ATTENDEE"]) == f"urn:uuid:{member.id}"
    assert not event.walk("VALARM")
    # The feed is one PUBLISH object: the cancelled call stays in it, marked CANCELLED.
    feed = Calendar.from_ical(signed_in.get(feed_path(member)).data)
    assert str(feed["METHOD"]) == "PUBLISH"


def links(html: str) -> dict[str, str]:
    """The subscription links of a page by their visible text."""
    found = re.findall(r"<a\b([^>]*)>([^<]+)</a>", html)
    result = {}
    for attributes, text in found:
        href = re.search(r'href="([^"]+)"', attributes)
        if href:
            result[" ".join(text.split())] = unescape(href.group(1))
    return result


def test_the_subscribe_page_offers_webcal_google_and_outlook_next_to_the_address(
    members, make_browser
):
    member = members.make()
    page = make_browser(member).post("/calls/feed/regenerate").get_data(as_text=True)
    address = re.search(r"(http://127\.0\.0\.1:5000/calls/feed/[A-Za-z0-9_-]+\.ics)", page)[1]
    webcal = "webcal://" + address.split("://", 1)[1]
    found = links(page)
    assert found["Open in your calendar app (webcal)"] == webcal
    google = urlsplit(found["Add to Google Calendar"])
    assert (google.scheme, google.netloc) == ("https", "calendar.google.com")
    assert parse_qs(google.query)["cid"] == [webcal]
    outlook = urlsplit(found["Add to Outlook"])
    assert (outlook.scheme, outlook.netloc, outlook.path) == (
        "https",
        "outlook.live.com",
        "/calendar/0/addfromweb",
    )
    assert parse_qs(outlook.query)["url"] == [address]
    assert parse_qs(outlook.query)["name"] == ["INVICTM Exchange calls"]
    work = urlsplit(found["Outlook with a work or school account"])
    assert work.netloc == "outlook.office.com" and parse_qs(work.query)["url"] == [address]
    for anchor in re.findall(r"<a\b[^>]*(?:google|outlook)[^>]*>", page):
        assert 'rel="noopener noreferrer"' in anchor
    assert "Google or Microsoft" in page, "the page says who gets the address"
    later = make_browser(member).get("/calls/feed").get_data(as_text=True)
    assert "webcal://" not in later and "calendar.google.com" not in later, "shown once"


def test_the_feed_keeps_its_revalidation_headers_and_answers_304(monthly, members, browser):
    member = members.make()
    url = feed_path(member)
    first_response = browser.get(url)
    assert first_response.status_code == 200
    cache = first_response.headers["Cache-Control"]
    assert "no-store" not in cache and "no-cache" in cache and "private" in cache
    tag = first_response.headers["ETag"]
    modified = first_response.headers["Last-Modified"]
    assert tag and modified
    again = browser.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag and "no-store" not in again.headers["Cache-Control"]
    assert browser.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    occurrences.move_occurrence(
        first(monthly),
        actor=db.session.get(Member, monthly.created_by_id),
        starts_at=datetime(2026, 12, 11, 15, 0, tzinfo=UTC),
    )
    db.session.commit()
    changed = browser.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.headers["Last-Modified"] != modified or changed.headers["ETag"] != tag


def test_signed_in_calls_pages_and_downloads_keep_no_store(monthly, members, make_browser):
    member = members.make()
    signed_in = make_browser(member)
    one = first(monthly)
    for path in (
        "/calls",
        "/calls/feed",
        f"/calls/occurrences/{one.id}",
        f"/calls/occurrences/{one.id}.ics",
        f"/calls/series/{monthly.id}",
    ):
        response = signed_in.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    shown_once = signed_in.post("/calls/feed/regenerate")
    assert shown_once.headers["Cache-Control"] == "no-store"
    assert make_browser().get("/calls/feed/not-a-token.ics").headers["Cache-Control"] == "no-store"
