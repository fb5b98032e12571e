"""What the alert page shows one member: a view model, so templates get booleans, not policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forum.alerts import policy
from forum.alerts.answers import my_answer
from forum.alerts.coordination import review_of
from forum.alerts.core import get_alert, timeline
from forum.alerts.models import Alert, AlertAnswer, AlertReview, AlertUpdate
from forum.extensions import db

if TYPE_CHECKING:
    from forum.members.models import Member


@dataclass(frozen=True)
class AlertPage:
    """One alert as one member sees it."""

    alert: Alert
    mine: AlertAnswer | None
    timeline: list[AlertUpdate]
    review: AlertReview | None
    can_coordinate: bool
    can_answer: bool


def alert_page(member: Member, alert_id: str) -> AlertPage:
    """The alert page for a member who may read the alert (otherwise AlertNotFound)."""
    alert = get_alert(member, alert_id)
    return AlertPage(
        alert=alert,
        mine=my_answer(member, alert),
        timeline=timeline(member, alert),
        review=review_of(member, alert),
        can_coordinate=policy.can_coordinate(member, alert),
        can_answer=policy.can_answer(member, alert),
    )


def may_watch(member: Member, alert_id: str) -> bool:
    """Whether the member's pages may follow this alert's live topic."""
    alert = db.session.get(Alert, alert_id)
    return alert is not None and policy.can_read(member, alert)
