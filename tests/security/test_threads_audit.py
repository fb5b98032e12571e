"""Downloads of attachments in TLP:RED threads are written to the audit log, as reads of RED
threads are (ids only); downloads from other threads are not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.security.audit import AuditEvent
from forum.threads import attachments
from forum.threads.models import Attachment, Post
from tests.support.threads import Threads

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def threads(app) -> Threads:  # type: ignore[no-untyped-def]
    """Threads built through the service (as in tests/threads)."""
    return Threads()


def _attach(author, thread) -> Attachment:  # type: ignore[no-untyped-def]
    post = db.session.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    found = attachments.add(
        uploader=author, thread=thread, post=post, filename="plan.pdf", data=PDF
    )
    db.session.commit()
    return found


def _downloads() -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "threads.red_attachment_downloaded")
        )
    )


def test_download_of_a_red_attachment_is_audited(members, threads, make_browser):
    author, named = members.make(), members.make()
    thread = threads.start(author, label="RED", participants=[named])
    attachment = _attach(author, thread)
    response = make_browser(named).get(f"/threads/attachments/{attachment.id}")
    assert response.status_code == 200 and response.data == PDF
    events = _downloads()
    assert len(events) == 1
    assert events[0].actor_id == named.id and events[0].target_id == attachment.id
    assert events[0].detail_items["thread_id"] == thread.id
    assert "plan" not in events[0].details


def test_refused_and_amber_downloads_leave_no_download_record(members, threads, make_browser):
    author, outsider = members.make(), members.make()
    red = threads.start(author, label="RED")
    amber = threads.start(author, label="AMBER")
    red_file, amber_file = _attach(author, red), _attach(author, amber)
    assert make_browser(outsider).get(f"/threads/attachments/{red_file.id}").status_code == 404
    assert make_browser(outsider).get(f"/threads/attachments/{amber_file.id}").status_code == 200
    assert _downloads() == []
