"""iCalendar: a download per occurrence and a personal subscription feed at a secret address.

What a calendar gets: the title, the times (in the organiser's zone, with VTIMEZONE), the status
(a cancelled call stays, with STATUS:CANCELLED, the same UID and a higher SEQUENCE), the member's
own RSVP as PARTSTAT, alarms for the series' reminders and a link back. Never the joining details,
the description or the agenda: calendars are synced to third-party servers.

The feed token is 256 random bits; only its SHA-256 is stored, so a copy of the database does not
give anyone a working feed address. Regenerating revokes the old address at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Alarm, Calendar, Event, vCalAddress
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from forum.calls import policy
from forum.calls.models import CallResponse, CallSeries, FeedToken, Occurrence
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.security import audit

PRODID = "-//INVICTM Exchange//Calls//EN"
PARTSTAT = {"attending": "ACCEPTED", "maybe": "TENTATIVE", "not_attending": "DECLINED"}
FEED_PAST_DAYS = 92


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def issue_feed_token(member: Member) -> str:
    """Make a new secret feed address for a member, revoking any earlier one; returns the token."""
    if not policy.can_see_calls(member):
        raise policy.NotFound
    now = utcnow()
    db.session.execute(
        update(FeedToken)
        .where(FeedToken.member_id == member.id, FeedToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    db.session.add(FeedToken(id=_digest(token), member_id=member.id, created_at=now))
    db.session.flush()
    audit.record("call.feed_token_issued", actor=member, target_type="member", target_id=member.id)
    return token


def revoke_feed_tokens(member: Member) -> int:
    """Revoke every feed address of a member; returns how many were live."""
    result = db.session.execute(
        update(FeedToken)
        .where(FeedToken.member_id == member.id, FeedToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.flush()
    count = int(getattr(result, "rowcount", 0) or 0)
    audit.record(
        "call.feed_token_revoked",
        actor=member,
        target_type="member",
        target_id=member.id,
        count=count,
    )
    return count


def has_feed(member: Member) -> FeedToken | None:
    """The member's live feed token row (its creation date; the token itself is not stored)."""
    return db.session.scalar(
        select(FeedToken).where(FeedToken.member_id == member.id, FeedToken.revoked_at.is_(None))
    )


def member_for_token(token: str) -> Member | None:
    """The active member a live feed token belongs to, or None."""
    if not token or len(token) > 100:
        return None
    row = db.session.get(FeedToken, _digest(token))
    if row is None or row.revoked_at is not None:
        return None
    member = db.session.get(Member, row.member_id)
    return member if member is not None and member.is_active_member else None


def _base_url() -> str:
    return str(current_app.config["EXCHANGE"]["app"]["base_url"]).rstrip("/")


def _event(
    occurrence: Occurrence, series: CallSeries, title: str, member: Member, answer: str | None
) -> Event:
    zone = ZoneInfo(series.timezone)
    link = f"{_base_url()}/calls/occurrences/{occurrence.id}"
    event = Event()
    event.add("uid", f"{occurrence.id}@invictm-exchange")
    event.add("sequence", occurrence.sequence)
    event.add("dtstamp", occurrence.updated_at)
    event.add("last-modified", occurrence.updated_at)
    event.add("dtstart", occurrence.starts_at.astimezone(zone))
    event.add("dtend", occurrence.ends_at.astimezone(zone))
    event.add("summary", title)
    event.add("url", link)
    event.add(
        "description",
        f"Joining details, agenda and RSVP on the INVICTM Exchange (members only): {link}",
    )
    event.add("status", "CANCELLED" if occurrence.is_cancelled else "CONFIRMED")
    if series.kind == "event":
        event.add("categories", ["Event"])
    attendee = vCalAddress(f"urn:uuid:{member.id}")
    attendee.params["PARTSTAT"] = PARTSTAT.get(answer or "", "NEEDS-ACTION")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["RSVP"] = "TRUE"
    event.add("attendee", attendee)
    if not occurrence.is_cancelled and answer != "not_attending":
        for offset in series.offsets:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", "Reminder: a call on the INVICTM Exchange")
            alarm.add("trigger", timedelta(minutes=-offset))
            event.add_component(alarm)
    return event


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def occurrence_ics(occurrence: Occurrence, *, viewer: Member) -> bytes:
    """One occurrence as an .ics file for the viewer (no joining details)."""
    series = policy.require_read(viewer, occurrence.series)
    answer = db.session.scalar(
        select(CallResponse.answer).where(
            CallResponse.occurrence_id == occurrence.id, CallResponse.member_id == viewer.id
        )
    )
    calendar = _calendar("INVICTM Exchange call")
    calendar.add_component(_event(occurrence, series, series.title, viewer, answer))
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())


def feed_ics(member: Member, *, now: datetime | None = None) -> bytes:
    """The member's personal feed: recent and upcoming occurrences of every call they may see."""
    if not policy.can_see_calls(member):
        raise policy.NotFound
    now = now or utcnow()
    occurrences = list(
        db.session.scalars(
            select(Occurrence)
            .options(selectinload(Occurrence.series))
            .where(Occurrence.starts_at >= now - timedelta(days=FEED_PAST_DAYS))
            .order_by(Occurrence.starts_at)
        )
    )
    answers = dict(
        db.session.execute(
            select(CallResponse.occurrence_id, CallResponse.answer).where(
                CallResponse.member_id == member.id
            )
        ).all()
    )
    titles: dict[str, str] = {}
    calendar = _calendar("INVICTM Exchange calls")
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for occurrence in occurrences:
        series = occurrence.series
        if series.id not in titles:
            titles[series.id] = series.title
        calendar.add_component(
            _event(occurrence, series, titles[series.id], member, answers.get(occurrence.id))
        )
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
