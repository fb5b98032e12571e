"""The live listener reads only ids above its cursor on SQLite: pruning old events must never
let ids start again from 1, or the next urgent alert after a quiet spell reaches no open page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from forum.db import utcnow
from forum.extensions import db
from forum.notify.live import channel
from forum.notify.live.events import LiveEvent, prune


def _event(topic: str) -> int:
    row = LiveEvent(topic=topic, created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row.id


def test_an_event_after_a_quiet_spell_and_a_prune_reaches_the_listener(app):
    listener = channel.Listener(app)
    first = [_event(f"thread:{n}") for n in range(3)]
    assert listener.cycle() == 3
    db.session.execute(update(LiveEvent).values(created_at=utcnow() - timedelta(minutes=20)))
    assert prune() == 2  # all old, but the newest stays to hold the numbering
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(LiveEvent)) == 1
    urgent = _event("alert:urgent")
    assert urgent > max(first)
    assert listener.cycle() == 1, "the urgent alert's event is delivered"


def test_a_listener_started_after_the_prune_still_sees_the_next_event(app):
    for n in range(3):
        _event(f"thread:{n}")
    db.session.execute(update(LiveEvent).values(created_at=utcnow() - timedelta(minutes=20)))
    prune()
    db.session.commit()
    listener = channel.Listener(app)
    with app.app_context():
        listener._cursor = int(db.session.scalar(select(func.max(LiveEvent.id))) or 0)
    urgent = _event("alert:urgent")
    assert listener.cycle() >= 1  # PostgreSQL's look-back also re-reads the kept newest row
    assert listener._cursor == urgent
