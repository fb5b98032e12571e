"""Per-member limits on creating content (alerts, threads, ad-hoc calls, nominations).

Counted from the rows a member created in the database, so every process and every worker
sees the same count (nothing lives in a process's memory). The member's own row is locked
first on PostgreSQL, so two parallel requests of one member cannot both pass the last slot
(SQLite serialises writers already). Limits come from [limits] in the config; 0 means none;
coordinators get limits.coordinator_multiplier times as much.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from forum.db import utcnow
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l

log = logging.getLogger(__name__)

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}

MESSAGES = {
    "alerts_per_hour": _l(
        "You have raised %(allowed)s alerts in the last hour, the most one member "
        "may. If another alert is needed now, ask a coordinator to raise it."
    ),
    "threads_per_hour": _l(
        "You have started %(allowed)s threads in the last hour, the most one "
        "member may. Please wait a little before starting another, or reply in an existing thread."
    ),
    "adhoc_calls_per_day": _l(
        "You have called %(allowed)s ad-hoc calls in the last 24 hours, the "
        "most one member may. Please ask a coordinator if another call is needed."
    ),
    "nominations_per_day": _l(
        "You have nominated %(allowed)s people in the last 24 hours, the most "
        "one member may. Please send the next nomination tomorrow."
    ),
}


def allowed_for(setting: str, actor: Any) -> int:
    """How many the actor may create in the setting's window (0: no limit)."""
    limits = current_app.config["EXCHANGE"]["limits"]
    allowed = int(limits[setting])
    if allowed and getattr(actor, "is_coordinator", False):
        allowed *= int(limits["coordinator_multiplier"])
    return allowed


def check(
    setting: str,
    actor: Any,
    *,
    author: Any,
    created: Any,
    where: tuple[Any, ...] = (),
    error: type[Exception] = ValueError,
) -> None:
    """Raise `error` in plain words when the actor has used up `setting` (e.g. alerts_per_hour).

    `author` and `created` are the columns that name the creator and the creation time of the
    rows counted; `where` narrows them (e.g. only ad-hoc calls).
    """
    allowed = allowed_for(setting, actor)
    if not allowed:
        return
    actor = getattr(actor, "_get_current_object", lambda: actor)()  # current_user is a proxy
    model = type(actor)
    db.session.execute(select(model.id).where(model.id == actor.id).with_for_update())
    since = utcnow() - WINDOWS[setting.rsplit("_", 1)[1]]
    count = db.session.scalar(
        select(func.count(author)).where(author == actor.id, created >= since, *where)
    )
    if int(count or 0) >= allowed:
        log.info("limit %s reached by member %s", setting, actor.id)
        raise error(str(MESSAGES[setting]) % {"allowed": allowed})
