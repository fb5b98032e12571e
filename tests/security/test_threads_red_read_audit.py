"""A TLP:RED page is never shown unless its read was audited (found by the review of the
structure change: the audit had become a best-effort step after the commit)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from forum.extensions import db
from forum.markup import tlp
from tests.support.threads import Threads

SECRET = "RED body only readers whose reading is audited may see"


@pytest.fixture
def threads(app: Flask) -> Threads:
    return Threads()


def test_red_thread_is_not_served_when_its_read_audit_cannot_be_written(
    members, threads, make_browser, monkeypatch
):
    """The audit write failing (e.g. SQLite 'database is locked') ends the request with an
    error page: the RED text is not served unaudited."""
    from forum.security.audit import AuditEvent
    from forum.threads import reading

    author, named = members.make(), members.make()
    thread = threads.start(author, label=tlp.RED, participants=[named], title="t", body=SECRET)

    def locked(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(reading, "_write_read", locked)
    response = make_browser(named).get(f"/threads/{thread.id}")
    db.session.expire_all()
    audited = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "threads.red_read", AuditEvent.actor_id == named.id
        )
    ).all()
    assert not audited
    assert SECRET not in response.get_data(as_text=True)
    assert response.status_code >= 500
    monkeypatch.undo()
    response = make_browser(named).get(f"/threads/{thread.id}")
    db.session.expire_all()
    assert SECRET in response.get_data(as_text=True)
    assert db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "threads.red_read", AuditEvent.actor_id == named.id
        )
    ).all()
