"""Nothing typed is lost: every error of the thread and reply forms comes back in plain words at
its own field, with the text kept — a file over the limit, a bad tag, a title or post over its
length — and a file sent with a form that came back is kept (sealed, for its uploader only) so
it need not be chosen again."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from forum.extensions import db
from forum.threads import attachments
from forum.threads.models import Attachment, Post, Thread

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PHONE = "The family asked us to call +32 475 12 34 56 after the hearing."


def at_field(page: str, name: str) -> str:
    """The HTML of the form field holding the input called `name`."""
    for chunk in re.split(r'(?=<div class="field)', page):
        if f'name="{name}"' in chunk:
            return chunk
    raise AssertionError(f"no field {name}")


def _post(browser, url: str, fields: dict) -> object:  # type: ignore[no-untyped-def, type-arg]
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart({"csrf_token": browser.csrf_token(), **fields})
    return browser._run(
        browser.client.post,
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_an_eleven_mb_file_comes_back_at_its_field_with_the_reply_kept(
    members, threads, make_browser
):
    author = members.make()
    thread = threads.start(author)
    big = FileStorage(io.BytesIO(b"a" * (11 * 1024 * 1024)), "notes.txt")
    response = _post(
        make_browser(author),
        f"/threads/{thread.id}/posts",
        {"body": "Notes from the debrief.", "attachment": big},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Notes from the debrief." in at_field(page, "body")
    assert "larger than 10 MB" in at_field(page, "attachment")
    assert db.session.scalar(select(func.count(Post.id))) == 1


def test_a_file_sent_with_a_reply_that_came_back_is_kept_and_posted_with_it(
    members, threads, make_browser
):
    author = members.make()
    thread = threads.start(author)
    browser = make_browser(author)
    url = f"/threads/{thread.id}/posts"
    response = _post(
        browser, url, {"body": PHONE, "attachment": FileStorage(io.BytesIO(PDF), "plan.pdf")}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "a phone number" in page
    field = at_field(page, "attachment")
    assert "plan.pdf" in field and "Kept from your last try" in field
    pending = db.session.scalars(select(Attachment)).one()
    assert pending.post_id is None and pending.uploader_id == author.id
    assert f'value="{pending.id}"' in page
    response = _post(
        browser, url, {"body": PHONE, "confirm_pii": "y", "pending_attachment": pending.id}
    )
    assert response.status_code == 302
    post = db.session.scalars(select(Post).where(Post.seq == 2)).one()
    db.session.refresh(pending)
    assert pending.post_id == post.id and pending.thread_id == thread.id
    assert attachments.read(pending) == PDF


def test_a_new_thread_that_came_back_keeps_its_file_too(members, threads, make_browser):
    category = threads.category()
    browser = make_browser(members.make())
    fields = {"title": "Intake", "category": category.id, "label": "AMBER", "body": PHONE}
    response = _post(
        browser,
        "/threads/new",
        {**fields, "attachment": FileStorage(io.BytesIO(PDF), "intake.pdf")},
    )
    assert response.status_code == 422
    pending = db.session.scalars(select(Attachment)).one()
    response = _post(
        browser, "/threads/new", {**fields, "confirm_pii": "y", "pending_attachment": pending.id}
    )
    assert response.status_code == 302
    thread = db.session.scalars(select(Thread)).one()
    db.session.refresh(pending)
    assert pending.thread_id == thread.id and pending.post_id is not None


def test_another_members_pending_file_cannot_be_claimed(members, threads, make_browser):
    owner, other = members.make(), members.make()
    thread = threads.start(owner)
    _post(
        make_browser(owner),
        f"/threads/{thread.id}/posts",
        {"body": PHONE, "attachment": FileStorage(io.BytesIO(PDF), "plan.pdf")},
    )
    pending = db.session.scalars(select(Attachment)).one()
    response = _post(
        make_browser(other),
        f"/threads/{thread.id}/posts",
        {"body": "mine now", "pending_attachment": pending.id},
    )
    assert response.status_code == 302
    db.session.refresh(pending)
    assert pending.post_id is None


def test_a_long_title_is_not_cut_it_is_said_at_the_field_and_kept(members, threads, make_browser):
    category = threads.category()
    browser = make_browser(members.make())
    title = "A lesson about reunification " * 9  # 261 characters
    form = browser.get("/threads/new").get_data(as_text=True)
    assert "maxlength" not in at_field(form, "title") and 'data-limit="200"' in form
    assert "maxlength" not in at_field(form, "body")  # a pasted post is never cut either
    response = browser.post(
        "/threads/new", {"title": title, "category": category.id, "label": "AMBER", "body": "ok"}
    )
    assert response.status_code == 422
    field = at_field(response.get_data(as_text=True), "title")
    assert "at most 200 characters" in field and title.strip() in field


def test_a_long_post_is_said_at_the_body_and_kept(members, threads, make_browser):
    author = members.make()
    thread = threads.start(author)
    body = "word " * 12_001
    response = _post(make_browser(author), f"/threads/{thread.id}/posts", {"body": body})
    assert response.status_code == 422
    field = at_field(response.get_data(as_text=True), "body")
    assert "at most 60,000 characters" in field and body.strip() in field


def test_a_bad_tag_is_reported_at_the_tags_field(members, threads, make_browser):
    category = threads.category()
    response = make_browser(members.make()).post(
        "/threads/new",
        {
            "title": "Tags",
            "category": category.id,
            "label": "AMBER",
            "tags": "good, bad tag!",
            "body": "Body kept",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "may use only letters" in at_field(page, "tags")
    assert "may use only letters" not in at_field(page, "body")
    assert "Body kept" in at_field(page, "body")


def test_a_pending_file_left_behind_is_removed_after_a_day(
    members, threads, make_browser, instance
):
    author = members.make()
    thread = threads.start(author)
    _post(
        make_browser(author),
        f"/threads/{thread.id}/posts",
        {"body": PHONE, "attachment": FileStorage(io.BytesIO(PDF), "plan.pdf")},
    )
    pending = db.session.scalars(select(Attachment)).one()
    stored = instance / "attachments" / pending.storage_name
    assert attachments.prune_pending() == 0
    pending.created_at = pending.created_at - timedelta(hours=attachments.PENDING_HOURS + 1)
    db.session.commit()
    assert attachments.prune_pending() == 1
    db.session.commit()
    assert db.session.scalar(select(Attachment.id)) is None and not stored.exists()


def test_a_kept_file_can_be_left_out(members, threads, make_browser, instance):
    author = members.make()
    thread = threads.start(author)
    browser = make_browser(author)
    url = f"/threads/{thread.id}/posts"
    page = _post(
        browser, url, {"body": PHONE, "attachment": FileStorage(io.BytesIO(PDF), "plan.pdf")}
    )
    assert "Do not attach it" in at_field(page.get_data(as_text=True), "drop_attachment")
    pending = db.session.scalars(select(Attachment)).one()
    stored = instance / "attachments" / pending.storage_name
    response = _post(
        browser,
        url,
        {
            "body": PHONE,
            "confirm_pii": "y",
            "pending_attachment": pending.id,
            "drop_attachment": "y",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(Attachment.id)) is None and not stored.exists()
