"""iCalendar: a download per occurrence and a personal subscription feed at a secret address.

What a calendar gets: the title, the times (in the organiser's zone, with a VTIMEZONE every
reader reads alike — see vtimezone.py — or in UTC inside a repeated hour), the Exchange as
ORGANIZER, the status (a cancelled call stays, with STATUS:CANCELLED, the same UID and a higher
SEQUENCE; its own download is a METHOD:CANCEL), the member's own RSVP as PARTSTAT, alarms for
the series' reminders and a link back. Never the joining details, the description or the
agenda: calendars are synced to third-party servers.

The feed token is 256 random bits; only its SHA-256 is stored, so a copy of the database does not
give anyone a working feed address. Regenerating revokes the old address at once.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from forum.calls import participation, policy
from forum.calls.models import CallResponse, CallSeries, FeedToken, Occurrence
from forum.calls.vtimezone import vtimezone
from forum.db import utcnow
from forum.extensions import db
from forum.i18n import member_locale, speaking
from forum.members import services as members_services
from forum.security import audit

if TYPE_CHECKING:
    from forum.members.models import Member

PRODID = "-//INVICTM Exchange//Calls//EN"
PARTSTAT = {"attending": "ACCEPTED", "maybe": "TENTATIVE", "not_attending": "DECLINED"}
ORGANIZER_NAME = "INVICTM Exchange"
FEED_PAST_DAYS = 92
FEED_CACHE_SIZE = 2000


class _FeedCache:
    """Built feeds by member, each kept with the fingerprint it was built from and when."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, tuple[tuple[object, ...], bytes, datetime]] = OrderedDict()
        self._built: dict[str, datetime] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, member_id: str, fingerprint: tuple[object, ...]) -> tuple[bytes, datetime] | None:
        with self._lock:
            found = self._items.get(member_id)
            if found is None or found[0] != fingerprint:
                return None
            self._items.move_to_end(member_id)
            return found[1], found[2]

    def put(self, member_id: str, fingerprint: tuple[object, ...], body: bytes) -> datetime:
        """Keep a built feed; returns its Last-Modified, later than any earlier build's."""
        with self._lock:
            built = utcnow().replace(microsecond=0)
            earlier = self._built.get(member_id)
            if earlier is not None and built <= earlier:
                built = earlier + timedelta(seconds=1)  # HTTP dates count whole seconds
            self._built[member_id] = built
            self._items[member_id] = (fingerprint, body, built)
            self._items.move_to_end(member_id)
            while len(self._items) > self._size:
                gone, _ = self._items.popitem(last=False)
                self._built.pop(gone, None)
            return built

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._built.clear()


feed_cache = _FeedCache(FEED_CACHE_SIZE)


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
    member = members_services.get_member(row.member_id)
    return member if member is not None and member.is_active_member else None


def subscribe_links(feed_url: str, name: str | None = None) -> dict[str, str]:
    """One-click subscription addresses for a feed URL: webcal, Google Calendar, Outlook.

    Google's and Outlook's are their add-by-URL pages: following one hands the secret feed
    address to Google or Microsoft, whose servers then fetch the feed themselves.
    """
    webcal = "webcal://" + feed_url.split("://", 1)[1]
    outlook = urlencode({"url": feed_url, "name": name or _("INVICTM Exchange calls")})
    return {
        "webcal": webcal,
        "google": "https://calendar.google.com/calendar/render?" + urlencode({"cid": webcal}),
        "outlook": f"https://outlook.live.com/calendar/0/addfromweb?{outlook}",
        "outlook_work": f"https://outlook.office.com/calendar/0/addfromweb?{outlook}",
    }


def _base_url() -> str:
    return str(current_app.config["EXCHANGE"]["app"]["base_url"]).rstrip("/")


def _organizer() -> vCalAddress:
    """The neutral organiser of every call: the Exchange itself, at its configured mail sender.

    RFC 5546 wants an ORGANIZER on a PUBLISH and a CANCEL. The real organiser's address and name
    are confidential and calendars are synced to third-party servers; the sender address is
    already public in the From line of every e-mail the Exchange sends.
    """
    organizer = vCalAddress(f"mailto:{current_app.config['EXCHANGE']['mail']['from_address']}")
    organizer.params["CN"] = ORGANIZER_NAME
    return organizer


def _attendee(member: Member, answer: str | None) -> vCalAddress:
    attendee = vCalAddress(f"urn:uuid:{member.id}")
    attendee.params["PARTSTAT"] = PARTSTAT.get(answer or "", "NEEDS-ACTION")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    # No iTIP reply expected: the ORGANIZER address takes no answers, the Exchange's page does.
    attendee.params["RSVP"] = "FALSE"
    return attendee


def _moment(at: datetime, zone: ZoneInfo) -> datetime:
    """An instant in the organiser's zone, or in UTC when its local time occurs twice.

    RFC 5545 (3.3.5) says a repeated local time with a TZID means its first pass, so the second
    pass cannot be written that way at all, and ical.js reads even the first pass as the second.
    In UTC both passes read right everywhere; the calendar still shows them in local time.
    """
    local = at.astimezone(zone)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return at.astimezone(UTC)
    return local


def _event(occurrence: Occurrence, series: CallSeries, title: str, *, with_alarms: bool) -> Event:
    zone = ZoneInfo(series.timezone)
    link = f"{_base_url()}/calls/occurrences/{occurrence.id}"
    event = Event()
    event.add("uid", f"{occurrence.id}@invictm-exchange")
    event.add("sequence", occurrence.sequence)
    event.add("organizer", _organizer())
    event.add("dtstamp", occurrence.updated_at)
    event.add("last-modified", occurrence.updated_at)
    event.add("dtstart", _moment(occurrence.starts_at, zone))
    event.add("dtend", _moment(occurrence.ends_at, zone))
    event.add("summary", title)
    event.add("url", link)
    event.add(
        "description",
        _(
            "Joining details, agenda and RSVP on the INVICTM Exchange (members only): %(link)s",
            link=link,
        ),
    )
    event.add("status", "CANCELLED" if occurrence.is_cancelled else "CONFIRMED")
    if series.kind == "event":
        event.add("categories", [_("Event")])
    if with_alarms and not occurrence.is_cancelled:
        for offset in series.offsets:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", _("Reminder: a call on the INVICTM Exchange"))
            alarm.add("trigger", timedelta(minutes=-offset))
            event.add_component(alarm)
    return event


def _calendar(name: str, method: str = "PUBLISH") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    return calendar


def occurrence_ics(occurrence: Occurrence, *, viewer: Member) -> bytes:
    """One occurrence as an .ics file for the viewer (no joining details).

    A cancelled call is a METHOD:CANCEL object (RFC 5546 3.2.5): same UID, higher SEQUENCE,
    STATUS:CANCELLED, so opening it removes the call from a calendar that has it.
    """
    series = policy.require_read(viewer, occurrence.series)
    answer = participation.answer_of(occurrence, viewer)
    method = "CANCEL" if occurrence.is_cancelled else "PUBLISH"
    calendar = _calendar(_("INVICTM Exchange call"), method)
    event = _event(occurrence, series, series.title, with_alarms=answer != "not_attending")
    event.add("attendee", _attendee(viewer, answer))
    calendar.add_component(event)
    _add_timezones(calendar, {series.timezone}, occurrence.starts_at, occurrence.ends_at)
    return bytes(calendar.to_ical())


def _add_timezones(calendar: Calendar, zones: set[str], first: datetime, last: datetime) -> None:
    """VTIMEZONE components for the zones used, covering only the years the events span."""
    for position, zone in enumerate(sorted(zones)):
        calendar.subcomponents.insert(position, vtimezone(zone, first.year - 1, last.year + 1))


def fingerprint(member: Member, *, now: datetime) -> tuple[object, ...]:
    """What a member's feed depends on; the same fingerprint means the same feed."""
    since = now - timedelta(days=FEED_PAST_DAYS)
    in_window = Occurrence.starts_at >= since
    mine = CallResponse.member_id == member.id
    row = db.session.execute(
        select(
            select(func.count()).where(in_window).scalar_subquery(),
            select(func.max(Occurrence.updated_at)).where(in_window).scalar_subquery(),
            select(func.count(CallSeries.id)).scalar_subquery(),
            select(func.max(CallSeries.updated_at)).scalar_subquery(),
            select(func.count(CallResponse.id)).where(mine).scalar_subquery(),
            select(func.max(CallResponse.answered_at)).where(mine).scalar_subquery(),
        )
    ).one()
    return (*row, _base_url(), str(_organizer()), member_locale(member))


def etag(member: Member, print_: tuple[object, ...]) -> str:
    """A strong ETag for a member's feed with this fingerprint."""
    digest = hashlib.sha256(repr((member.id, print_)).encode()).hexdigest()[:32]
    return f'"{digest}"'


def cached_feed(member: Member, *, now: datetime | None = None) -> tuple[bytes, str, datetime]:
    """The member's feed, its ETag and Last-Modified, rebuilt only when something it shows changed.

    Last-Modified is when this process built the body: a change of the fingerprint rebuilds it
    with a later date, so a client revalidating with If-Modified-Since alone does not keep a
    stale feed (across worker processes the ETag, which calendar clients send, decides).
    """
    if not policy.can_see_calls(member):
        raise policy.NotFound
    now = now or utcnow()
    print_ = fingerprint(member, now=now)
    found = feed_cache.get(member.id, print_)
    if found is None:
        body = feed_ics(member, now=now)
        found = body, feed_cache.put(member.id, print_, body)
    return found[0], etag(member, print_), found[1]


EVENT_HEAD = len(b"BEGIN:VEVENT\r\n")
_event_cache: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
_event_cache_lock = threading.Lock()
EVENT_CACHE_SIZE = 20_000


def _event_bytes(
    occurrence: Occurrence, series: CallSeries, title: str, with_alarms: bool
) -> bytes:
    """One VEVENT serialised, shared by every member's feed until the occurrence or series changes."""
    key = (
        occurrence.id,
        occurrence.sequence,
        occurrence.updated_at,
        occurrence.status,
        series.updated_at,
        title,
        with_alarms,
        _base_url(),
        str(_organizer()),
        str(get_locale()),  # the human texts (description, alarm) are in the reader's language
    )
    with _event_cache_lock:
        found = _event_cache.get(key)
        if found is not None:
            _event_cache.move_to_end(key)
            return found
    body = bytes(_event(occurrence, series, title, with_alarms=with_alarms).to_ical())
    with _event_cache_lock:
        _event_cache[key] = body
        while len(_event_cache) > EVENT_CACHE_SIZE:
            _event_cache.popitem(last=False)
    return body


def clear_caches() -> None:
    """Forget every built feed and serialised event of this process (benchmarks, tests)."""
    feed_cache.clear()
    with _event_cache_lock:
        _event_cache.clear()


def _attendee_line(member: Member, answer: str | None) -> bytes:
    """The member's folded ATTENDEE content line (with its line break)."""
    holder = Event()
    holder.add("attendee", _attendee(member, answer))
    return bytes(holder.to_ical())[EVENT_HEAD : -len(b"END:VEVENT\r\n")]


def feed_ics(member: Member, *, now: datetime | None = None) -> bytes:
    """The member's personal feed: recent and upcoming occurrences of every call they may see.

    A calendar client has no session: its human texts are in the member's profile language.
    """
    if not policy.can_see_calls(member):
        raise policy.NotFound
    with speaking(member_locale(member)):
        return _feed_ics(member, now=now)


def _feed_ics(member: Member, *, now: datetime | None = None) -> bytes:
    now = now or utcnow()
    occurrences = list(
        db.session.scalars(
            select(Occurrence)
            .join(Occurrence.series)
            .options(selectinload(Occurrence.series))
            .where(
                Occurrence.starts_at >= now - timedelta(days=FEED_PAST_DAYS),
                policy.visible_series_clause(member),
            )
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
    attendee_lines: dict[str | None, bytes] = {}
    calendar = _calendar(_("INVICTM Exchange calls"))
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    if occurrences:
        zones = {o.series.timezone for o in occurrences}
        _add_timezones(calendar, zones, occurrences[0].starts_at, occurrences[-1].ends_at)
    events: list[bytes] = []
    for occurrence in occurrences:
        series = occurrence.series
        if series.id not in titles:
            titles[series.id] = series.title
        answer = answers.get(occurrence.id)
        if answer not in attendee_lines:
            attendee_lines[answer] = _attendee_line(member, answer)
        body = _event_bytes(occurrence, series, titles[series.id], answer != "not_attending")
        # The member's own ATTENDEE line goes right after BEGIN:VEVENT.
        events.append(body[:EVENT_HEAD] + attendee_lines[answer] + body[EVENT_HEAD:])
    wrapper = bytes(calendar.to_ical())
    cut = wrapper.rindex(b"END:VCALENDAR")
    return wrapper[:cut] + b"".join(events) + wrapper[cut:]
