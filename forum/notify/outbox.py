"""Writing notifications: in-app rows and outbox rows, in the transaction of the event.

Features call `notify(...)`. In-app notifications are rows the member sees as soon as the event
commits (there is nothing to deliver, so no outbox row is needed for them); every external
channel gets one outbox row per member, with a unique idempotency key, that the dispatcher sends.
After commit, the `committed` signal tells the dispatcher (urgent rows go out at once) and the
live channel (open pages learn of new notifications) what was written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from blinker import Namespace
from sqlalchemy import Insert, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum.crypto import envelope
from forum.crypto.models import DataKey
from forum.db import SCRATCH_KEY, after_commit, new_id, pending, utcnow
from forum.extensions import db
from forum.i18n import Text, in_language, member_locale, request_language
from forum.notify import preferences, subscriptions
from forum.notify.models import Notification, OutboxMessage
from forum.notify.recipients import Recipient

_signals = Namespace()
committed = _signals.signal("exchange.notify.committed")
"""Sent after a commit that wrote notifications: kwargs member_ids, outbox_ids, urgent_outbox_ids."""

PENDING_KEY = "exchange.notify.pending"


@dataclass
class Pending:
    """What this transaction wrote, announced after it commits."""

    member_ids: set[str] = field(default_factory=set)
    outbox_ids: list[str] = field(default_factory=list)
    urgent_outbox_ids: list[str] = field(default_factory=list)


# An urgent e-mail held back while the member's devices are tried first (see notify()).
STANDBY = "standby"
NOT_NEEDED = "not needed: a device took the push"  # a standby e-mail's end


def _pending() -> Pending:
    """This transaction's Pending, announced once after it commits (forgotten on rollback)."""
    written = pending(PENDING_KEY, Pending)
    after_commit(lambda: _announce(written), once=PENDING_KEY)
    return written


def pending_in(session: Any) -> Pending | None:
    """What the session's open transaction wrote so far (None: nothing)."""
    found: Pending | None = session.info.get(SCRATCH_KEY, {}).get(PENDING_KEY)
    return found


def _announce(written: Pending) -> None:
    if not (written.member_ids or written.outbox_ids):
        return
    committed.send(
        None,
        member_ids=sorted(written.member_ids),
        outbox_ids=list(written.outbox_ids),
        urgent_outbox_ids=list(written.urgent_outbox_ids),
    )


def _sealed(
    model: type[Notification] | type[OutboxMessage],
    row_id: str,
    column: str,
    value: str,
    key_id: str,
) -> bytes:
    """A value sealed for a row that is inserted in bulk, bound to its row and column exactly as
    the model's own `seal` binds it (`SealedColumns.sealed_context`), without making an ORM
    object per row (a fan-out seals a thousand). An empty value is sealed too: the columns
    that use this are NOT NULL."""
    return envelope.seal(key_id, envelope.context(model.__sealed_table__, row_id, column), value)


def _insert_ignoring_duplicates(model: type, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    # The table, not the mapped class: a Core executemany, without the ORM's bulk-insert
    # bookkeeping per row (a third of a 1,000-member fan-out's time; issue 14).
    table = model.__table__  # type: ignore[attr-defined]
    statement: Insert
    if dialect == "postgresql":
        statement = pg_insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        statement = insert(table)
    # A Core executemany takes rows of one shape: e-mail rows carry columns push rows do not.
    shapes: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    for same in shapes.values():
        db.session.execute(statement, same)


@dataclass(frozen=True)
class Written:
    """Ids of what notify() wrote."""

    notification_ids: list[str]
    outbox_ids: list[str]


def notify(
    recipients: Iterable[Recipient],
    *,
    event_key: str,
    kind: str,
    text: Text,
    key: DataKey | str,
    link: str,
    email_subject: Text | None = None,
    email_body: Text | None = None,
    email_confidential_body: Text | None = None,
    urgent: bool = False,
    channels: Sequence[str] = ("inapp", "email", "push"),
    push_text: Text | None = None,
    stale_at: datetime | None = None,
) -> Written:
    """Notify members of an event: a sealed in-app row each, and content-free e-mail and push rows.

    `text` may be confidential (it is sealed under `key`, the data key of the object it is about,
    so shredding the object shreds its notifications). `email_subject` and `email_body` must say
    only that something happened — never a post, an alert's details or a dial-in number.
    `email_confidential_body` is for the rare body a feature was explicitly allowed to mail (a
    series whose organisers allow joining details by e-mail): it is sealed under `key` in the
    outbox and opened only to send; `email_body` stays the content-free stand-in at rest.
    Writing the same event_key twice for a member writes nothing the second time.

    Every text is written in the recipient's language (`forum.i18n.member_locale`): pass
    `lazy_gettext(...)` (`_l`), which is translated once per language the event is sent in; a
    plain `str` is written as it is to everyone.

    Which external channels each member gets follows their choices (notify.preferences): one
    e-mail row, and one push row per live device (`target` is the subscription id) whose text is
    `push_text` or the category's own, content-free either way. Quiet hours move a row's due_at
    to their end, except for urgent events. An urgent event reaches every member outside the
    Exchange: a member who chose push alone and has no device is e-mailed.

    `stale_at`: the moment the notice is no use outside the app (the call it announces starts).
    A member whose quiet hours end after it gets the in-app notice only: no e-mail or push saying
    "a new call" or "your call starts in 1 hour" arrives once the call has begun.
    """
    now = utcnow()
    key_id = key if isinstance(key, str) else key.id
    notifications: list[dict[str, object]] = []
    outbox: list[dict[str, object]] = []
    members = [m for m in recipients if m.status == "active"]
    plans = preferences.plans(members, kind, urgent)
    category = preferences.category_of(kind)
    pushing = "push" in channels and category is not None
    devices = (
        subscriptions.live_ids_by_member(m.id for m in members if plans[m.id].push)
        if pushing
        else {}
    )
    words: dict[tuple[int, str], str] = {}

    def said(value: Text, language: str) -> str:
        key = (id(value), language)
        if key not in words:
            words[key] = in_language(value, language)
        return words[key]

    # Whether there is an e-mail at all, asked once: asking a lazy text translates it.
    subject = email_subject if email_subject is not None and str(email_subject) else None
    body = email_body if email_body is not None and str(email_body) else subject
    pushed = push_text if push_text is not None and str(push_text) else None

    for member in members:
        plan = plans[member.id]
        due_at = plan.hold_until or now
        language = member_locale(member)
        if "inapp" in channels:
            notification_id = new_id()
            notifications.append(
                {
                    "id": notification_id,
                    "member_id": member.id,
                    "event_key": event_key,
                    "kind": kind,
                    "text_sealed": _sealed(
                        Notification, notification_id, "text", said(text, language), key_id
                    ),
                    "link": link,
                    "is_urgent": urgent,
                    "created_at": now,
                }
            )
        if stale_at is not None and plan.hold_until is not None and plan.hold_until >= stale_at:
            continue  # held past the moment it is about: the in-app notice is enough
        member_devices = devices.get(member.id, []) if plan.push else []
        wants_email = plan.email or (urgent and not member_devices)
        # Urgent and push only: the e-mail waits on standby, sent if no device takes the push
        # (pushes.py releases it on a failure, cancels it once a device has it).
        standby = urgent and not wants_email and bool(member_devices)
        if "email" in channels and subject is not None and (wants_email or standby):
            outbox_id = new_id()
            outbox.append(
                {
                    "id": outbox_id,
                    "idempotency_key": f"{event_key}:{member.id}:email",
                    "member_id": member.id,
                    "channel": "email",
                    "kind": kind,
                    "subject": said(subject, language),
                    "body": said(body or subject, language),
                    "body_sealed": (
                        _sealed(
                            OutboxMessage,
                            outbox_id,
                            "body",
                            said(email_confidential_body, language),
                            key_id,
                        )
                        if email_confidential_body
                        else None
                    ),
                    "link": link,
                    "is_urgent": urgent,
                    "status": STANDBY if standby else "pending",
                    "attempts": 0,
                    "due_at": due_at,
                    "created_at": now,
                }
            )
        for subscription_id in member_devices:
            assert category is not None
            outbox.append(
                {
                    "id": new_id(),
                    "idempotency_key": f"{event_key}:{member.id}:push:{subscription_id}",
                    "member_id": member.id,
                    "channel": "push",
                    "target": subscription_id,
                    "kind": kind,
                    "subject": said(pushed or category.push_text, language),
                    "body": "",
                    "link": link,
                    "is_urgent": urgent,
                    "status": "pending",
                    "attempts": 0,
                    "due_at": due_at,
                    "created_at": now,
                }
            )
    _insert_ignoring_duplicates(Notification, notifications)
    _insert_ignoring_duplicates(OutboxMessage, outbox)
    written = _pending()
    written.member_ids.update(m.id for m in members)
    outbox_ids = [str(row["id"]) for row in outbox]
    written.outbox_ids.extend(outbox_ids)
    if urgent:
        written.urgent_outbox_ids.extend(outbox_ids)
    return Written([str(row["id"]) for row in notifications], outbox_ids)


def enqueue_external(
    *,
    idempotency_key: str,
    channel: str,
    kind: str,
    subject: str,
    body: str,
    link: str,
    member_id: str | None = None,
    target: str | None = None,
    urgent: bool = False,
    recipient: str | None = None,
    recipient_key: DataKey | str | None = None,
    secret_link: str | None = None,
    locale: str | None = None,
) -> str:
    """Write one outbox row for a channel that is not per member (a webhook endpoint, an invite).

    E-mail to someone who is not a member yet (an invite): pass channel="email", member_id=None,
    `recipient` (the address) and `recipient_key` (the data key of the object it belongs to, so
    shredding the object shreds the address). The address is sealed into `recipient_sealed` with
    the context ("outbox", row id, "recipient"); the e-mail channel opens it with
    `envelope.open_text(row.recipient_sealed, envelope.context("outbox", row.id, "recipient"))`
    when `member_id` is None. Subject and body stay content-free, as for every e-mail.

    A link that is itself a secret (an invite link carries a one-time token, which must never be
    stored in the clear) goes in `secret_link` (absolute URL): it is sealed into `link_sealed`
    with the context ("outbox", row id, "link") under `recipient_key`, and the channel must use
    `envelope.open_text(row.link_sealed, envelope.context("outbox", row.id, "link"))` as the
    link (as is, it is already absolute) whenever `link_sealed` is set; `link` then only holds a
    placeholder path.
    """
    row_id = new_id()
    recipient_sealed = None
    if recipient is not None:
        if recipient_key is None:
            raise ValueError("a sealed recipient needs the data key to seal it under")
        recipient_sealed = _sealed(
            OutboxMessage, row_id, "recipient", recipient, _key_id(recipient_key)
        )
    link_sealed = None
    if secret_link is not None:
        if recipient_key is None:
            raise ValueError("a sealed link needs the data key to seal it under")
        link_sealed = _sealed(OutboxMessage, row_id, "link", secret_link, _key_id(recipient_key))
    _insert_ignoring_duplicates(
        OutboxMessage,
        [
            {
                "id": row_id,
                "idempotency_key": idempotency_key,
                "member_id": member_id,
                "channel": channel,
                "target": target,
                "recipient_sealed": recipient_sealed,
                "link_sealed": link_sealed,
                "kind": kind,
                "subject": subject,
                "body": body,
                "link": link,
                # A member's e-mail speaks the member's language when sent; anyone else's
                # the language given, else this request's (an invitation: the inviter's).
                "locale": (locale if locale is not None else request_language()) or "",
                "is_urgent": urgent,
                "status": "pending",
                "attempts": 0,
                "due_at": utcnow(),
                "created_at": utcnow(),
            }
        ],
    )
    written = _pending()
    written.outbox_ids.append(row_id)
    if urgent:
        written.urgent_outbox_ids.append(row_id)
    return row_id


def _key_id(key: DataKey | str) -> str:
    return key if isinstance(key, str) else key.id


def notification_text(notification: Notification) -> str:
    """Open a notification's sealed text."""
    return notification.open("text")
