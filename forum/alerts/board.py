"""The live response board of an alert: who answered what, by country, and who has not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from forum.alerts import policy
from forum.alerts.core import NOT_YOURS, AlertNotFound, get_alert, recipient_ids
from forum.alerts.models import ANSWERS, Alert, AlertAnswer
from forum.extensions import db
from forum.members import services as members_services
from forum.notify.reach import Reach, reach

if TYPE_CHECKING:
    from forum.members.models import Member


# The notices that ask a member to answer: how they reached her is what the board shows.
REACHING_KINDS = ("alert.raised", "alert.reminder")


@dataclass(frozen=True)
class BoardRow:
    """One member on the response board."""

    member: Member
    answer: AlertAnswer | None
    # How the alert reached them: seen in the app, pushed, e-mailed (coordinators' view).
    reached: Reach = Reach()


@dataclass(frozen=True)
class Board:
    """Who answered what, grouped by country, and who has not answered yet."""

    alert: Alert
    raiser: Member
    answered: list[BoardRow]
    waiting: list[BoardRow]
    counts: dict[str, int]
    by_country: dict[str, dict[str, int]]
    show_reach: bool = False


def board(viewer: Member, alert_id: str) -> Board:
    """The live response board of an alert, for its raiser and the coordinators."""
    alert = get_alert(viewer, alert_id)
    if not policy.can_see_board(viewer, alert):
        raise AlertNotFound(NOT_YOURS)
    members = members_services.members_by_id(recipient_ids(alert))
    answers = {
        a.member_id: a
        for a in db.session.scalars(select(AlertAnswer).where(AlertAnswer.alert_id == alert.id))
    }
    # The raiser is shown as the raiser, never as someone who has not answered.
    others = [(m, answers.get(m.id)) for m in members.values() if m.id != alert.raiser_id]
    show_reach = policy.can_see_reach(viewer, alert)
    reached = (
        reach(alert.link, REACHING_KINDS, [m.id for m, _ in others])
        if show_reach
        else {m.id: Reach() for m, _ in others}
    )
    answered = [BoardRow(m, a, reached[m.id]) for m, a in others if a is not None]
    answered.sort(key=lambda row: (row.member.country, row.answer.updated_at if row.answer else 0))
    waiting = [BoardRow(m, None, reached[m.id]) for m, a in others if a is None]
    waiting.sort(key=lambda row: row.member.country)
    counts = {key: 0 for key in ANSWERS}
    by_country: dict[str, dict[str, int]] = {}
    for row in answered:
        assert row.answer is not None
        counts[row.answer.answer] = counts.get(row.answer.answer, 0) + 1
        country = by_country.setdefault(row.member.country or "—", {k: 0 for k in ANSWERS})
        country[row.answer.answer] += 1
    return Board(
        alert,
        alert.raiser,
        answered,
        waiting,
        counts,
        dict(sorted(by_country.items())),
        show_reach,
    )
