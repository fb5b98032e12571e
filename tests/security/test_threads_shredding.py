"""A deleted post is unrecoverable with the keyring: its text, its edit history and its
attachments were sealed under a data key of its own, destroyed when the post is deleted. The
test copies every ciphertext before the delete (as a backup or a snooping admin would) and
tries to open each copy afterwards."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from forum.crypto import envelope
from forum.extensions import db
from forum.threads import attachments, content, services
from forum.threads.models import Attachment, Post, PostRevision
from tests.support.threads import Threads

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def threads(app) -> Threads:  # type: ignore[no-untyped-def]
    """Threads built through the service (as in tests/threads)."""
    return Threads()


def _copies(post: Post, instance) -> list[tuple[bytes, str]]:  # type: ignore[no-untyped-def]
    found = [
        (post.body_sealed, envelope.context("post", post.id, "body")),
        (post.html_sealed, envelope.context("post", post.id, "html")),
    ]
    for revision in db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)):
        found.append((revision.body_sealed, envelope.context("post_revision", revision.id, "body")))
    for item in db.session.scalars(select(Attachment).where(Attachment.post_id == post.id)):
        blob = (instance / "attachments" / item.storage_name).read_bytes()
        found.append((blob, envelope.context("attachment", item.id, "content")))
        found.append((item.filename_sealed, envelope.context("attachment", item.id, "filename")))
    return found


def _forget_unwrapped_keys(app) -> None:  # type: ignore[no-untyped-def]
    # A fresh process: nothing unwrapped in memory, only the keyring and the database.
    app.extensions["exchange.envelope"].cache = type(app.extensions["exchange.envelope"].cache)()


def test_deleted_post_its_history_and_attachment_do_not_open_with_the_keyring(
    app, members, threads, make_browser, instance
):
    author = members.make()
    thread = threads.start(author, title="Lessons", body="The first post stays.")
    browser = make_browser(author)
    response = browser.post(
        f"/threads/{thread.id}/posts",
        {
            "body": "The shelter address was on the form.",
            "confirm_pii": "y",
            "attachment": (io.BytesIO(PDF), "intake.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    post = db.session.scalars(select(Post).where(Post.thread_id == thread.id, Post.seq == 2)).one()
    services.edit_post(
        editor=author, post=post, body="The shelter was on the form, twice.", pii_confirmed=True
    )
    db.session.commit()
    copies = _copies(post, instance)
    assert len(copies) == 5
    for blob, context in copies:  # before the delete every copy opens
        assert envelope.open_bytes(blob, context)

    services.delete_post(actor=author, post=post)
    db.session.commit()
    _forget_unwrapped_keys(app)

    for blob, context in copies:
        with pytest.raises(envelope.SealError):
            envelope.open_bytes(blob, context)
    # The rest of the thread still reads.
    first = db.session.scalars(select(Post).where(Post.thread_id == thread.id, Post.seq == 1)).one()
    assert content.post_source(first) == "The first post stays."
    assert content.title(thread) == "Lessons"
    page = browser.get(f"/threads/{thread.id}").get_data(as_text=True)
    assert "The first post stays." in page and "This post was deleted." in page


def test_other_posts_of_the_thread_keep_their_attachments(app, members, threads, instance):
    author = members.make()
    thread = threads.start(author)
    kept = db.session.scalars(select(Post).where(Post.thread_id == thread.id)).one()
    attachments.add(uploader=author, thread=thread, post=kept, filename="a.pdf", data=PDF)
    gone = threads.reply(author, thread, "to be deleted")
    services.delete_post(actor=author, post=gone)
    db.session.commit()
    _forget_unwrapped_keys(app)
    item = db.session.scalars(select(Attachment)).one()
    assert attachments.read(item) == PDF
    assert content.attachment_name(item) == "a.pdf"
