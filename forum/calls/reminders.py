"""Reminders: rows with due times, planned with each occurrence, sent once by a sweep.

Exactly once: a reminder is marked sent in the same transaction that writes its notifications
(whose event keys are unique per occurrence, offset and member), so a crash before the commit
repeats nothing and loses nothing, and a second sweep finds nothing left to do. A reminder found
more than `calls.reminder_grace_minutes` after its due time (the scheduler was down) is skipped
and logged with ids only: a "starts in 1 hour" message after the call is over helps nobody.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select, update

from forum.calls import policy
from forum.calls.models import CallResponse, CallSeries, Occurrence, Reminder
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.lazytext import lazy_ngettext
from forum.members import services as members_services
from forum.notify.outbox import notify

if TYPE_CHECKING:
    from forum.members.models import Member

log = logging.getLogger(__name__)


def describe_offset(minutes: int) -> Text:
    """An offset in words: 10080 -> "7 days", 60 -> "1 hour", 90 -> "90 minutes"."""
    if minutes % (24 * 60) == 0:
        return lazy_ngettext("%(num)d day", "%(num)d days", minutes // (24 * 60))
    if minutes % 60 == 0:
        return lazy_ngettext("%(num)d hour", "%(num)d hours", minutes // 60)
    return lazy_ngettext("%(num)d minute", "%(num)d minutes", minutes)


def starts_in(minutes: int) -> Text:
    """How soon, as a whole phrase: 60 -> "in 1 hour" (in the recipient's language)."""
    if minutes % (24 * 60) == 0:
        return lazy_ngettext("in %(num)d day", "in %(num)d days", minutes // (24 * 60))
    if minutes % 60 == 0:
        return lazy_ngettext("in %(num)d hour", "in %(num)d hours", minutes // 60)
    return lazy_ngettext("in %(num)d minute", "in %(num)d minutes", minutes)


def call_phrase(series: CallSeries) -> Text:
    """How a content-free e-mail names a call: never its title."""
    if series.kind == "adhoc":
        return _l("the ad-hoc call")
    if series.kind == "event":
        return _l("the event")
    if series.pattern in ("weekly", "biweekly"):
        return _l("the recurring call")
    return _l("the monthly call")


def plan(
    series: CallSeries, occurrence: Occurrence, *, now: datetime, is_new: bool = False
) -> None:
    """Create or re-time the pending reminders of an occurrence (sent ones stay sent)."""
    existing: dict[int, Reminder] = {}
    if not is_new:
        rows = db.session.scalars(select(Reminder).where(Reminder.occurrence_id == occurrence.id))
        existing = {r.offset_minutes: r for r in rows}
    wanted = series.offsets
    for offset, unwanted in existing.items():
        if offset not in wanted and unwanted.status == "pending":
            db.session.delete(unwanted)  # the organisers no longer want this reminder
    for offset in wanted:
        due_at = occurrence.starts_at - timedelta(minutes=offset)
        reminder = existing.get(offset)
        if reminder is None:
            if due_at <= now:
                continue  # announced by the call's own notification instead
            db.session.add(
                Reminder(
                    id=new_id(),
                    occurrence_id=occurrence.id,
                    offset_minutes=offset,
                    due_at=due_at,
                    status="pending",
                )
            )
        elif reminder.status == "pending":
            reminder.due_at = due_at


@dataclass
class SweepResult:
    """What one sweep did, by reminder ids."""

    sent: list[str]
    skipped: list[str]


def _recipients(occurrence_ids: list[str]) -> tuple[list[Member], dict[str, set[str]]]:
    members = members_services.active_members()
    declined: dict[str, set[str]] = {}
    rows = db.session.execute(
        select(CallResponse.occurrence_id, CallResponse.member_id).where(
            CallResponse.occurrence_id.in_(occurrence_ids),
            CallResponse.answer == "not_attending",
        )
    )
    for occurrence_id, member_id in rows:
        declined.setdefault(occurrence_id, set()).add(member_id)
    return members, declined


def _claim(now: datetime, batch_size: int) -> list[Reminder]:
    query = (
        select(Reminder)
        .where(Reminder.status == "pending", Reminder.due_at <= now)
        .order_by(Reminder.due_at)
        .limit(batch_size)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def sweep(*, now: datetime | None = None, batch_size: int = 500) -> SweepResult:
    """Send every due reminder once; skip (and log) those beyond the grace period. Flushes only."""
    now = now or utcnow()
    grace = timedelta(
        minutes=int(current_app.config["EXCHANGE"]["calls"]["reminder_grace_minutes"])
    )
    due = _claim(now, batch_size)
    result = SweepResult(sent=[], skipped=[])
    if not due:
        return result
    occurrence_ids = sorted({r.occurrence_id for r in due})
    occurrences = {
        o.id: o
        for o in db.session.scalars(select(Occurrence).where(Occurrence.id.in_(occurrence_ids)))
    }
    series_ids = {o.series_id for o in occurrences.values()}
    series_by_id = {
        s.id: s for s in db.session.scalars(select(CallSeries).where(CallSeries.id.in_(series_ids)))
    }
    members, declined = _recipients(occurrence_ids)
    for reminder in due:
        occurrence = occurrences[reminder.occurrence_id]
        series = series_by_id[occurrence.series_id]
        if occurrence.is_cancelled or occurrence.starts_at <= now or now - reminder.due_at > grace:
            result.skipped.append(reminder.id)
            log.warning(
                "call reminder %s for occurrence %s skipped (due %s, late %ss, cancelled=%s)",
                reminder.id,
                occurrence.id,
                reminder.due_at.isoformat(),
                int((now - reminder.due_at).total_seconds()),
                occurrence.is_cancelled,
            )
            continue
        _send(series, occurrence, reminder, members, declined.get(occurrence.id, set()))
        result.sent.append(reminder.id)
    # Marked in the transaction that wrote the notifications: both commit, or neither does.
    _mark(result.sent, "sent", now)
    _mark(result.skipped, "skipped", now)
    db.session.flush()
    return result


def _send(
    series: CallSeries,
    occurrence: Occurrence,
    reminder: Reminder,
    members: list[Member],
    declined: set[str],
) -> None:
    when = starts_in(reminder.offset_minutes)
    phrase = call_phrase(series)
    link = f"/calls/occurrences/{occurrence.id}"
    body = _l(
        "Reminder: %(what)s starts %(when)s.\n\nSee the call on the Exchange: %(link)s",
        what=phrase,
        when=when,
        link=link,
    )
    confidential: Text | None = None
    if series.is_email_joining_allowed:
        joining = occurrence.open("joining") or series.open("joining")
        if joining:
            # The organisers chose to allow this for the series (off by default); the outbox
            # keeps it sealed until the moment it is sent.
            confidential = _l(
                "%(body)s\n\nJoining details:\n%(joining)s", body=body, joining=joining
            )
    notify(
        [m for m in policy.readers_among(members, series) if m.id not in declined],
        event_key=f"call-reminder:{occurrence.id}:{reminder.offset_minutes}",
        kind="call_reminder",
        text=_l("Reminder: %(what)s starts %(when)s.", what=series.title, when=when),
        key=series.dek_id,
        link=link,
        email_subject=_l("Reminder: %(what)s starts %(when)s", what=phrase, when=when),
        email_body=body,
        email_confidential_body=confidential,
        push_text=_l("Your call starts %(when)s", when=when),
        stale_at=occurrence.starts_at,  # "starts in 1 hour", held past the start, goes no more
    )


def _mark(ids: list[str], status: str, now: datetime) -> None:
    for start in range(0, len(ids), 500):
        db.session.execute(
            update(Reminder)
            .where(Reminder.id.in_(ids[start : start + 500]), Reminder.status == "pending")
            .values(status=status, done_at=now),
            execution_options={"synchronize_session": False},
        )


def sweep_until_done(
    *, now: datetime | None = None, batch_size: int = 500, max_batches: int = 100
) -> SweepResult:
    """Run sweeps until nothing is due (bounded); the caller commits."""
    total = SweepResult(sent=[], skipped=[])
    for _ in range(max_batches):
        result = sweep(now=now, batch_size=batch_size)
        total.sent.extend(result.sent)
        total.skipped.extend(result.skipped)
        if not result.sent and not result.skipped:
            break
    return total
