"""Everything written in a thread is sealed under the thread's own key, bound to its row and
column; deleting the thread shreds the key; unique words posted through the web appear nowhere
at rest: not in the database file or its WAL, the logs, the mail, or the attachment store."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.crypto import envelope
from forum.crypto.envelope import SealError
from forum.crypto.models import DataKey
from forum.extensions import db
from forum.markup import tlp
from forum.notify.dispatcher import dispatch_due
from forum.threads import content
from forum.threads.models import Attachment, Flag, Post, PostRevision, Thread
from forum.threads.search import Query, search


def _sqlite_bytes(instance: Path) -> bytes:
    data = b""
    for name in ("exchange.db", "exchange.db-wal"):
        path = instance / name
        if path.exists():
            data += path.read_bytes()
    return data


def _postgres_bytes() -> bytes:
    # What a dump of every confidential table would hold: all columns as text.
    dump = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            dump.append(repr(tuple(row)))
    return "\n".join(dump).encode()


def _checkpoint() -> None:
    db.session.commit()
    db.session.close()
    raw = db.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def _at_rest(app, instance: Path, backend: str) -> bytes:  # type: ignore[no-untyped-def]
    db.session.commit()
    if backend == "sqlite":
        return _sqlite_bytes(instance)
    return _postgres_bytes()


def test_title_and_tags_are_sealed_with_the_thread_key_posts_with_their_own_bound_to_their_row(
    members, threads
):
    thread = threads.start(
        members.make(), title="Sealed title words", tags=["sealedtag"], body="Sealed body words"
    )
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    assert post.dek_id != thread.dek_id
    for blob, key_id in (
        (thread.title_sealed, thread.dek_id),
        (thread.tags_sealed, thread.dek_id),
        (post.body_sealed, post.dek_id),
        (post.html_sealed, post.dek_id),
    ):
        assert envelope.key_id_of(blob) == key_id
        assert b"Sealed" not in blob
    with pytest.raises(SealError):  # a title copied onto another row does not open
        envelope.open_text(thread.title_sealed, envelope.context("thread", "0" * 32, "title"))
    with pytest.raises(SealError):  # nor as another column
        envelope.open_text(post.body_sealed, envelope.context("post", post.id, "html"))


def test_edit_history_is_sealed_under_the_post_key(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author, body="First wording of the lesson")
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    make_browser(author).post(f"/threads/posts/{post.id}/edit", {"body": "Second wording"})
    revision = db.session.scalar(select(PostRevision).where(PostRevision.post_id == post.id))
    assert envelope.key_id_of(revision.body_sealed) == post.dek_id
    assert b"First wording" not in revision.body_sealed
    assert content.revision_text(revision) == "First wording of the lesson"


def test_deleting_a_thread_shreds_its_key_and_its_text_is_unrecoverable(
    members, threads, make_browser, instance, backend
):
    author = members.make()
    thread = threads.start(
        author, label=tlp.AMBER, title="Shred-me title kq7", body="Shred-me body kq7"
    )
    browser = make_browser(author)
    browser.post(
        f"/threads/{thread.id}/posts",
        {"body": "reply kq7", "attachment": (io.BytesIO(b"file kq7"), "f.txt")},
        content_type="multipart/form-data",
    )
    sealed = [
        thread.title_sealed,
        *db.session.scalars(select(Post.body_sealed).where(Post.thread_id == thread.id)),
    ]
    attachment = db.session.scalar(select(Attachment).where(Attachment.thread_id == thread.id))
    stored = instance / "attachments" / attachment.storage_name
    assert stored.exists()
    sealed_file = stored.read_bytes()
    key_id, wrapped = thread.dek_id, db.session.get(DataKey, thread.dek_id).wrapped
    thread_id = thread.id
    assert browser.post(f"/threads/{thread_id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Thread, thread_id) is None
    key = db.session.get(DataKey, key_id)
    assert key.wrapped is None and key.destroyed_at is not None
    envelope._envelope().cache.drop(key_id)  # a fresh process has nothing cached either
    for blob in [*sealed, sealed_file]:
        with pytest.raises(SealError):
            envelope.open_bytes(blob, "anything")
    assert not stored.exists()
    if backend == "sqlite":
        _checkpoint()
    at_rest = _at_rest(None, instance, backend)
    assert wrapped not in at_rest
    for blob in sealed:
        assert blob not in at_rest
    assert browser.get(f"/threads/{thread_id}").status_code == 404


def test_canary_words_posted_through_the_web_appear_nowhere_at_rest(
    members, threads, make_browser, instance, backend, mailbox, caplog
):
    caplog.set_level(logging.DEBUG)
    canary = "Canarywordzyx Pelicanquux"
    author, follower = members.make(), members.make(name="Fiona Follower")
    category = threads.category()
    follower_browser = make_browser(follower)
    follower_browser.post(f"/threads/c/{category.slug}/watch", {"level": "follow"})
    browser = make_browser(author)
    response = browser.post(
        "/threads/new",
        {
            "title": f"Title {canary}",
            "category": category.id,
            "label": "GREEN",
            "tags": "canarytagzyx",
            "body": f"Body {canary} @Fiona Follower",
            "attachment": (io.BytesIO(f"Attachment {canary}".encode()), f"{canary}.txt"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    thread = db.session.scalar(select(Thread).order_by(Thread.created_at.desc()))
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    browser.post(f"/threads/posts/{post.id}/edit", {"body": f"Edited {canary}"})
    follower_browser.post(f"/threads/{thread.id}/posts", {"body": f"Reply {canary}"})
    follower_browser.post(f"/threads/posts/{post.id}/flag", {"reason": f"Reason {canary}"})
    assert follower_browser.get(f"/threads/search?q={canary.split()[0]}").status_code == 200
    assert db.session.scalar(select(Flag.id)) is not None
    dispatch_due()
    db.session.commit()
    assert mailbox.messages, "the follower was e-mailed"
    words = [w.encode() for w in canary.split()] + [b"canarytagzyx"]
    at_rest = _at_rest(None, instance, backend)
    stores = [at_rest, *[p.read_bytes() for p in (instance / "attachments").iterdir()]]
    stores += list(mailbox.raw)
    for store in stores:
        for word in words:
            assert word not in store and word.lower() not in store.lower()
    for record in caplog.records:
        for word in canary.split():
            assert word not in record.getMessage()
    # ...and yet a reader sees them all.
    page = follower_browser.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert f"Edited {canary}" in page and f"Reply {canary}" in page
    results = search(follower, Query(text="pelicanquux"))
    assert results.total == 1  # one result per thread (title, post and reply all match)
