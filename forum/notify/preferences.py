"""How each member wants to hear of each kind of event: push, e-mail, both or none, and quiet hours.

A kind of notification (`notify(kind=…)`) belongs to one category below. Each member picks the
channels of each category (no row: the category's default, e-mail following the member's old
"e-mail notifications" choice). Urgent alerts can never be switched off entirely: their choice is
push, e-mail or both, and push alone falls back to e-mail for a member who has no device that can
receive it. Quiet hours, in the member's own time zone, hold every push and e-mail but urgent ones
until they end; the in-app notification is written at once either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from forum.db import utcnow
from forum.errors import Invalid
from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.notify.models import (
    DeliveryChoice,
    Notification,
    OutboxMessage,
    PushSubscription,
    QuietHours,
)
from forum.notify.recipients import Recipient


@dataclass(frozen=True)
class Category:
    """A kind of event a member chooses channels for."""

    name: str
    label: Text
    kinds: frozenset[str]
    # The push text: says only that something happened (RFC 8291 encrypts it, but the device's
    # lock screen shows it to whoever holds the phone).
    push_text: Text
    may_be_off: bool = True


CATEGORIES: tuple[Category, ...] = (
    Category(
        "urgent_alerts",
        _l("Urgent alerts"),
        frozenset(
            {
                "alert.raised",
                "alert.reminder",
                "alert.escalated",
                "alert.corrected",
                "alert.cancelled",
                "alert.update",
            }
        ),
        _l("Urgent alert — open the Exchange"),
        may_be_off=False,
    ),
    Category(
        "call_reminders",
        _l("Call reminders and new calls"),
        frozenset({"call_reminder", "call"}),
        _l("A call is coming up — open the Exchange"),
    ),
    Category("mentions", _l("Mentions"), frozenset({"thread_mention"}), _l("You were mentioned")),
    Category(
        "followed_threads",
        _l("Replies and new threads you follow"),
        frozenset({"thread_post", "thread_new", "thread_added"}),
        _l("New in a thread you follow"),
    ),
    Category(
        "minutes", _l("Minutes of calls"), frozenset({"call_minutes"}), _l("Minutes were published")
    ),
)
BY_NAME = {category.name: category for category in CATEGORIES}
_BY_KIND = {kind: category for category in CATEGORIES for kind in category.kinds}

# The four choices a form offers, as (value, label, push, email).
CHOICES: tuple[tuple[str, Text, bool, bool], ...] = (
    ("both", _l("Push and e-mail"), True, True),
    ("push", _l("Push only"), True, False),
    ("email", _l("E-mail only"), False, True),
    ("none", _l("Neither (in the Exchange only)"), False, False),
)
_CHOICE = {value: (push, email) for value, _label, push, email in CHOICES}


def category_of(kind: str) -> Category | None:
    """The category a kind of notification belongs to (None: account and security notices,
    which are e-mailed as before and never pushed)."""
    return _BY_KIND.get(kind)


@dataclass(frozen=True)
class Plan:
    """How one member hears of one event."""

    push: bool
    email: bool
    # Not before this moment (quiet hours); None: at once.
    hold_until: datetime | None = None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def quiet_until(start_minute: int, end_minute: int, zone: str, now: datetime) -> datetime | None:
    """When the quiet hours that contain `now` end (UTC), or None when `now` is not in them.

    A period may run over midnight (22:00–07:00). Local times are taken in the member's zone
    with the zone's own offset on that day, so summer time moves nothing."""
    if start_minute == end_minute:
        return None
    tz = _zone(zone)
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    overnight = start_minute > end_minute
    inside = (
        (minute >= start_minute or minute < end_minute)
        if overnight
        else start_minute <= minute < end_minute
    )
    if not inside:
        return None
    day = local.date()
    if overnight and minute >= start_minute:
        day = day + timedelta(days=1)
    end = datetime.combine(day, time(end_minute // 60, end_minute % 60), tzinfo=tz)
    return end.astimezone(now.tzinfo) if now.tzinfo else end


def plans(members: Sequence[Recipient], kind: str, urgent: bool) -> dict[str, Plan]:
    """Every member's plan for one event of this kind (two queries, whatever the audience)."""
    category = category_of(kind)
    ids = [m.id for m in members]
    if category is None:  # account and security notices: e-mail as before, no push
        return {m.id: Plan(push=False, email=urgent or m.is_email_notifications) for m in members}
    chosen = _choices_of(ids, category.name)
    # Quiet hours never hold the urgent-alerts category (its updates and corrections included).
    quiet = {} if urgent or not category.may_be_off else _quiet_of(ids)
    now = utcnow()
    result: dict[str, Plan] = {}
    for member in members:
        push, email = chosen.get(member.id, (True, member.is_email_notifications))
        if urgent and not category.may_be_off and not (push or email):
            push, email = True, True  # never switched off (a row written before the rule)
        hold = None
        if member.id in quiet:
            start, end = quiet[member.id]
            hold = quiet_until(start, end, member.timezone, now)
        result[member.id] = Plan(push=push, email=email, hold_until=hold)
    return result


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _choices_of(ids: Sequence[str], category: str) -> dict[str, tuple[bool, bool]]:
    found: dict[str, tuple[bool, bool]] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(
            select(DeliveryChoice.member_id, DeliveryChoice.push, DeliveryChoice.email).where(
                DeliveryChoice.category == category, DeliveryChoice.member_id.in_(chunk)
            )
        )
        found.update((member_id, (push, email)) for member_id, push, email in rows)
    return found


def _quiet_of(ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(
            select(QuietHours.member_id, QuietHours.start_minute, QuietHours.end_minute).where(
                QuietHours.member_id.in_(chunk), QuietHours.start_minute != QuietHours.end_minute
            )
        )
        found.update((member_id, (start, end)) for member_id, start, end in rows)
    return found


# --- the member's own choices (the preferences page) -----------------------------------------


def choices(member: Recipient) -> dict[str, str]:
    """The member's choice per category, as one of CHOICES' values."""
    rows = db.session.execute(
        select(DeliveryChoice.category, DeliveryChoice.push, DeliveryChoice.email).where(
            DeliveryChoice.member_id == member.id
        )
    )
    chosen = {category: (push, email) for category, push, email in rows}
    result: dict[str, str] = {}
    for category in CATEGORIES:
        push, email = chosen.get(category.name, (True, member.is_email_notifications))
        result[category.name] = next(v for v, (p, e) in _CHOICE.items() if (p, e) == (push, email))
    return result


def save_choices(member: Recipient, wanted: dict[str, str]) -> None:
    """Save the member's choice per category; Invalid (naming the field) for an impossible one."""
    for category in CATEGORIES:
        value = wanted.get(category.name)
        if value is None:
            continue
        if value not in _CHOICE:
            raise Invalid(_("Please choose one of the options."), field=category.name)
        push, email = _CHOICE[value]
        if not category.may_be_off and not (push or email):
            raise Invalid(
                _(
                    "%(category)s cannot be switched off: choose push, e-mail or both.",
                    category=category.label,
                ),
                field=category.name,
            )
        row = db.session.get(DeliveryChoice, (member.id, category.name))
        if row is None:
            row = DeliveryChoice(member_id=member.id, category=category.name)
            db.session.add(row)
        row.push, row.email, row.updated_at = push, email, utcnow()
    db.session.flush()


def quiet_hours(member: Recipient) -> tuple[int, int]:
    """The member's quiet hours as (start, end) minutes after midnight; equal: none."""
    row = db.session.get(QuietHours, member.id)
    return (row.start_minute, row.end_minute) if row else (0, 0)


def save_quiet_hours(member: Recipient, start_minute: int, end_minute: int) -> None:
    """Save the member's quiet hours (equal start and end: none)."""
    for field, value in (("quiet_start", start_minute), ("quiet_end", end_minute)):
        if not 0 <= value < 24 * 60:
            raise Invalid(_("Please give a time of day, such as 22:00."), field=field)
    row = db.session.get(QuietHours, member.id)
    if row is None:
        row = QuietHours(member_id=member.id)
        db.session.add(row)
    row.start_minute, row.end_minute, row.updated_at = start_minute, end_minute, utcnow()
    db.session.flush()


def forget_member(member_id: str) -> None:
    """A removed member: her channel choices and quiet hours go (they say when she sleeps), her
    bell and her deliveries go, and her ended devices keep no name of the browser or push
    service (the rows stay: the audit log names them)."""
    db.session.execute(delete(DeliveryChoice).where(DeliveryChoice.member_id == member_id))
    db.session.execute(delete(QuietHours).where(QuietHours.member_id == member_id))
    db.session.execute(
        update(PushSubscription)
        .where(PushSubscription.member_id == member_id)
        .values(device_label="", service="")
    )
    # Her bell (each alert and call she was told of, and when she read it) and her deliveries.
    db.session.execute(delete(Notification).where(Notification.member_id == member_id))
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.member_id == member_id))
