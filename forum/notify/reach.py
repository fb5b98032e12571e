"""How an event reached each member: seen in the app, pushed to a device, e-mailed.

What the response board shows coordinators per member ("Seen in app · Phone: delivered ·
E-mail: accepted"). Read from the member's own in-app notification and the outbox rows that
share the event's link — a few grouped queries, whatever the audience. "Accepted" means the mail
server took the message; "bounced" that its bounce report came back later (read by the bounce
receiver when mail.bounce_address is set, forum/notify/bounces.py; without it a message that
bounces later shows as accepted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.notify.models import Notification, OutboxMessage
from forum.notify.outbox import NOT_NEEDED

# Best first: a channel's state is the best of its rows (one per device for push).
_ORDER = {"sent": 0, "pending": 1, "standby": 2, "bounced": 3, "failed": 4, "cancelled": 5}
# A push service's 201 says it took the message for the device, not that the phone showed it.
# The words are shown on the board in the reader's language (lazy: said when rendered).
_PUSH: dict[str, Text] = {
    "sent": _l("accepted"),
    "pending": _l("sending"),
    "failed": _l("not delivered"),
}
_PUSH["cancelled"] = _PUSH["failed"]  # the device was gone
_EMAIL: dict[str, Text] = {
    "sent": _l("accepted"),
    "pending": _l("waiting"),
    "failed": _l("not accepted"),
}
_EMAIL["cancelled"] = _l("not sent")
# The relay took it, then reported that it could not deliver it (an RFC 3464 bounce).
_EMAIL["bounced"] = _l("bounced")
_EMAIL["standby"] = _l("held while the phone is tried")
# The states that mean the channel did not reach the member.
_PUSH_FAILED = frozenset({"failed", "cancelled"})
_EMAIL_FAILED = frozenset({"failed", "cancelled", "bounced"})


@dataclass(frozen=True)
class Reach:
    """One member's reach: seen in the app, and the push and e-mail state (None: not sent)."""

    seen_in_app: bool = False
    push: Text | None = None
    email: Text | None = None
    # Whether the channel failed to reach them (whatever language its word is shown in).
    push_failed: bool = False
    email_failed: bool = False


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def reach(link: str, kinds: Iterable[str], member_ids: Iterable[str]) -> dict[str, Reach]:
    """Per member, how the events of these kinds with this link reached them."""
    ids = list(dict.fromkeys(member_ids))
    kinds = list(kinds)
    seen: set[str] = set()
    best: dict[tuple[str, str], str] = {}
    for chunk in _chunks(ids):
        seen.update(
            db.session.scalars(
                select(Notification.member_id).where(
                    Notification.member_id.in_(chunk),
                    Notification.link == link,
                    Notification.kind.in_(kinds),
                    Notification.read_at.is_not(None),
                )
            )
        )
        rows = db.session.execute(
            select(
                OutboxMessage.member_id,
                OutboxMessage.channel,
                OutboxMessage.status,
                OutboxMessage.last_error,
            ).where(
                OutboxMessage.member_id.in_(chunk),
                OutboxMessage.link == link,
                OutboxMessage.kind.in_(kinds),
                OutboxMessage.channel.in_(("push", "email")),
            )
        )
        for member_id, channel, status, error in rows:
            if error == NOT_NEEDED:  # a standby e-mail the phone made unnecessary
                continue
            key = (str(member_id), channel)
            if key not in best or _ORDER.get(status, 9) < _ORDER.get(best[key], 9):
                best[key] = status

    def state(member_id: str, channel: str, words: dict[str, Text]) -> Text | None:
        status = best.get((member_id, channel))
        return None if status is None else words.get(status, status)

    def failed(member_id: str, channel: str, states: frozenset[str]) -> bool:
        return best.get((member_id, channel)) in states

    return {
        member_id: Reach(
            seen_in_app=member_id in seen,
            push=state(member_id, "push", _PUSH),
            email=state(member_id, "email", _EMAIL),
            push_failed=failed(member_id, "push", _PUSH_FAILED),
            email_failed=failed(member_id, "email", _EMAIL_FAILED),
        )
        for member_id in ids
    }
