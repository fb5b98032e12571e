"""The iCalendar download and the personal feed at a secret, revocable address."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from icalendar import Calendar
from sqlalchemy import select, text

from forum.calls import ical, occurrences, participation
from forum.calls.models import FeedToken, Occurrence
from forum.extensions import db
from forum.members.models import Member
from tests.support.calls import DIAL_IN


def first(series) -> Occurrence:
    return db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == series.id).order_by(Occurrence.starts_at)
    ).first()


def feed_url(browser) -> str:
    page = browser.post("/calls/feed/regenerate").get_data(as_text=True)
    match = re.search(r"http://127\.0\.0\.1:5000(/calls/feed/[A-Za-z0-9_-]+\.ics)", page)
    assert match, "the new address is shown once"
    return match.group(1)


def events(body: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_member_subscribes_and_the_feed_carries_titles_times_alarms_and_rsvp(
    monthly, members, browser, make_browser
):
    member = members.make()
    occurrence = first(monthly)
    participation.respond(occurrence, member=member, answer="maybe")
    db.session.commit()
    url = feed_url(make_browser(member))
    response = browser.get(url)  # a calendar application: no session cookie
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    found = events(response.data)
    event = found[f"{occurrence.id}@invictm-exchange"]
    assert str(event["SUMMARY"]) == "INVICTM monthly call"
    assert event.decoded("DTSTART") == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Brussels"
    assert f"/calls/occurrences/{occurrence.id}" in str(event["URL"])
    assert event["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"
    triggers = sorted(a.decoded("TRIGGER").total_seconds() for a in event.walk("VALARM"))
    assert triggers == [-7 * 24 * 3600, -3600]
    assert b"BEGIN:VTIMEZONE" in response.data
    assert len(found) == 6


def test_the_feed_never_carries_joining_details_description_or_agenda(
    monthly, members, browser, make_browser
):
    member = members.make()
    occurrence = first(monthly)
    participation.propose_item(occurrence, member=member, title="Canary agenda item 5521")
    db.session.commit()
    body = browser.get(feed_url(make_browser(member))).data.decode()
    unfolded = body.replace("\r\n ", "")
    for secret in ("483920", "+32 2 555", "meet.example.org", "identification", "Canary agenda"):
        assert secret not in unfolded
    download = make_browser(member).get(f"/calls/occurrences/{occurrence.id}.ics")
    assert download.status_code == 200
    assert "483920" not in download.data.decode().replace("\r\n ", "")
    assert DIAL_IN not in download.data.decode()


def test_moving_and_cancelling_raise_the_sequence_under_the_same_uid(
    monthly, members, browser, make_browser
):
    member = members.make()
    url = feed_url(make_browser(member))
    organiser = db.session.get(Member, monthly.created_by_id)
    one, two = db.session.scalars(
        select(Occurrence).where(Occurrence.series_id == monthly.id).order_by(Occurrence.starts_at)
    ).all()[:2]
    uid_one, uid_two = f"{one.id}@invictm-exchange", f"{two.id}@invictm-exchange"
    before = events(browser.get(url).data)
    assert int(before[uid_one]["SEQUENCE"]) == 0
    occurrences.move_occurrence(
        one, actor=organiser, starts_at=datetime(2026, 12, 11, 15, 0, tzinfo=UTC)
    )
    occurrences.cancel_occurrence(two, actor=organiser)
    db.session.commit()
    after = events(browser.get(url).data)
    assert int(after[uid_one]["SEQUENCE"]) == 1
    assert after[uid_one].decoded("DTSTART") == datetime(2026, 12, 11, 15, 0, tzinfo=UTC)
    assert str(after[uid_one]["STATUS"]) == "CONFIRMED"
    assert int(after[uid_two]["SEQUENCE"]) == 1
    assert str(after[uid_two]["STATUS"]) == "CANCELLED"
    assert not list(after[uid_two].walk("VALARM")), "no alarm for a cancelled call"


def test_regenerating_revokes_the_old_address_and_revoking_turns_the_feed_off(
    monthly, members, browser, make_browser
):
    member = members.make()
    signed_in = make_browser(member)
    old = feed_url(signed_in)
    new = feed_url(signed_in)
    assert browser.get(old).status_code == 404
    assert browser.get(new).status_code == 200
    signed_in.post("/calls/feed/revoke")
    assert browser.get(new).status_code == 404


def test_feed_token_is_random_and_only_its_hash_is_stored(members, browser, make_browser):
    member = members.make()
    url = feed_url(make_browser(member))
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 43  # 32 random bytes (256 bits) in URL-safe base64
    stored = db.session.execute(text("SELECT id FROM call_feed_tokens")).scalars().all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_a_suspended_members_feed_stops_working(members, browser):
    member = members.make()
    token = ical.issue_feed_token(member)
    db.session.commit()
    assert browser.get(f"/calls/feed/{token}.ics").status_code == 200
    member.status = "suspended"
    db.session.commit()
    assert browser.get(f"/calls/feed/{token}.ics").status_code == 404


def test_a_wrong_token_is_a_404(browser):
    assert browser.get("/calls/feed/not-a-real-token.ics").status_code == 404
    assert db.session.scalars(select(FeedToken)).all() == []


def test_an_unchanged_feed_answers_304_and_a_change_gives_a_new_etag(monthly, members, browser):
    member = members.make()
    token = ical.issue_feed_token(member)
    db.session.commit()
    url = f"/calls/feed/{token}.ics"
    first_response = browser.get(url)
    tag = first_response.headers["ETag"]
    assert browser.get(url, headers={"If-None-Match": tag}).status_code == 304
    participation.respond(first(monthly), member=member, answer="attending")
    db.session.commit()
    changed = browser.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    event = events(changed.data)[f"{first(monthly).id}@invictm-exchange"]
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"


def test_each_members_feed_carries_their_own_answer_and_alarms(monthly, members):
    coming, declining = members.make(), members.make()
    occurrence = first(monthly)
    participation.respond(occurrence, member=coming, answer="attending")
    participation.respond(occurrence, member=declining, answer="not_attending")
    db.session.commit()
    uid = f"{occurrence.id}@invictm-exchange"
    mine = events(ical.feed_ics(coming))[uid]
    theirs = events(ical.feed_ics(declining))[uid]
    assert mine["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert str(mine["ATTENDEE"]) == f"urn:uuid:{coming.id}"
    assert theirs["ATTENDEE"].params["PARTSTAT"] == "DECLINED"
    assert len(list(mine.walk("VALARM"))) == 2 and not list(theirs.walk("VALARM"))
    assert Calendar.from_ical(ical.feed_ics(coming)).get("X-WR-CALNAME") == "INVICTM Exchange calls"
