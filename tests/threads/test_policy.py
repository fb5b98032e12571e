"""Who may see, read, post in and moderate a thread, for every label and role — and the same
404 as for a thread that does not exist for anyone not on a TLP:RED thread."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.markup import tlp
from forum.threads import policy
from forum.threads.models import Attachment, Post

MISSING = "0123456789abcdef0123456789abcdef"
SECRET_TITLE = "Quarantined-RED-title-zx81"
SECRET_BODY = "Quarantined-RED-body-qv42"


@pytest.mark.parametrize("label", [tlp.AMBER_STRICT, tlp.AMBER, tlp.GREEN, tlp.CLEAR])
def test_every_active_member_reads_threads_not_labelled_red(members, threads, label):
    author, reader, coordinator = members.make(), members.make(), members.coordinator()
    thread = threads.start(author, label=label)
    for member in (author, reader, coordinator):
        assert policy.can_read(member, thread)
        assert policy.can_post(member, thread)
        assert policy.can_see_existence(member, thread)
    assert policy.can_moderate(coordinator, thread)
    assert not policy.can_moderate(reader, thread)


def test_red_thread_is_readable_only_by_named_participants(members, threads):
    author, named, outsider = members.make(), members.make(), members.make()
    coordinator = members.coordinator()
    thread = threads.start(author, label=tlp.RED, participants=[named])
    assert policy.can_read(author, thread) and policy.can_read(named, thread)
    assert not policy.can_read(outsider, thread)
    assert not policy.can_see_existence(outsider, thread)
    assert not policy.can_read(coordinator, thread)
    assert policy.can_see_existence(coordinator, thread)
    assert not policy.can_moderate(coordinator, thread)
    assert policy.can_manage_participants(author, thread)
    assert not policy.can_manage_participants(named, thread)


def test_suspended_member_reads_nothing(members, threads):
    author, member = members.make(), members.make()
    thread = threads.start(author, label=tlp.CLEAR)
    member.status = "suspended"
    db.session.commit()
    assert not policy.can_read(member, thread)
    assert not policy.can_see_existence(member, thread)


def test_locked_thread_takes_no_replies_from_members(members, threads):
    author, coordinator = members.make(), members.coordinator()
    thread = threads.start(author)
    thread.is_locked = True
    db.session.commit()
    assert not policy.can_post(author, thread)
    assert policy.can_post(coordinator, thread)


@pytest.fixture
def red_setup(members, threads, make_browser):
    author, named = members.make(), members.make()
    outsider, coordinator = members.make(), members.coordinator()
    thread = threads.start(
        author,
        label=tlp.RED,
        participants=[named],
        title=SECRET_TITLE,
        body=SECRET_BODY,
        tags=["redtag"],
    )
    post = db.session.scalar(select(Post).where(Post.thread_id == thread.id))
    response = make_browser(author).post(
        f"/threads/{thread.id}/posts",
        {"body": "with a file", "attachment": (io.BytesIO(b"plain notes"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    attachment = db.session.scalar(select(Attachment).where(Attachment.thread_id == thread.id))
    return {
        "author": author,
        "named": named,
        "outsider": outsider,
        "coordinator": coordinator,
        "thread": thread,
        "post": post,
        "attachment": attachment,
    }


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r'(content|value)="[^"]*"', "", response.get_data(as_text=True))


def _urls(thread_id: str, post_id: str, attachment_id: str) -> list[tuple[str, str]]:
    return [
        ("get", f"/threads/{thread_id}"),
        ("get", f"/threads/{thread_id}/manage"),
        ("post", f"/threads/{thread_id}/posts"),
        ("post", f"/threads/{thread_id}/watch"),
        ("post", f"/threads/{thread_id}/label"),
        ("post", f"/threads/{thread_id}/participants"),
        ("post", f"/threads/{thread_id}/moderate/lock"),
        ("get", f"/threads/posts/{post_id}/edit"),
        ("post", f"/threads/posts/{post_id}/edit"),
        ("get", f"/threads/posts/{post_id}/history"),
        ("get", f"/threads/posts/{post_id}/flag"),
        ("post", f"/threads/posts/{post_id}/flag"),
        ("post", f"/threads/posts/{post_id}/delete"),
        ("post", f"/threads/posts/{post_id}/hide"),
        ("get", f"/threads/attachments/{attachment_id}"),
    ]


def test_member_not_on_red_thread_gets_the_same_404_as_for_nothing(red_setup, make_browser):
    browser = make_browser(red_setup["outsider"])
    real = _urls(red_setup["thread"].id, red_setup["post"].id, red_setup["attachment"].id)
    fake = _urls(MISSING, MISSING, MISSING)
    payload = {
        "body": "x",
        "reason": "x",
        "label": "CLEAR",
        "level": "follow",
        "confirm_lowering": "y",
    }
    for (method, url), (_, missing_url) in zip(real, fake, strict=True):
        got = getattr(browser, method)(url, **({"data": payload} if method == "post" else {}))
        missing = getattr(browser, method)(
            missing_url, **({"data": payload} if method == "post" else {})
        )
        assert got.status_code == 404, url
        assert _page(got) == _page(missing), url
        assert SECRET_TITLE not in got.get_data(as_text=True)
    assert browser.post(f"/threads/{red_setup['thread'].id}/delete").status_code == 404
    listing = browser.get("/threads").get_data(as_text=True)
    assert red_setup["thread"].id not in listing and SECRET_TITLE not in listing
    found = browser.get("/threads/search?q=Quarantined").get_data(as_text=True)
    assert SECRET_TITLE not in found and SECRET_BODY not in found
    assert browser.get("/threads/search?tag=redtag").get_data(as_text=True).count("result") >= 1
    assert red_setup["thread"].id not in browser.get("/threads/search?tag=redtag").get_data(
        as_text=True
    )


def test_coordinator_not_on_red_thread_sees_that_it_exists_and_who_started_it_only(
    red_setup, make_browser
):
    browser = make_browser(red_setup["coordinator"])
    page = browser.get(f"/threads/{red_setup['thread'].id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "A TLP:RED thread" in text and red_setup["author"].display_name in text
    assert SECRET_TITLE not in text and SECRET_BODY not in text
    listing = browser.get("/threads").get_data(as_text=True)
    assert red_setup["thread"].id in listing and SECRET_TITLE not in listing
    assert browser.get(f"/threads/posts/{red_setup['post'].id}/history").status_code == 404
    assert browser.get(f"/threads/attachments/{red_setup['attachment'].id}").status_code == 404
    assert browser.post(f"/threads/posts/{red_setup['post'].id}/hide").status_code == 404
    assert (
        browser.post(f"/threads/{red_setup['thread'].id}/posts", {"body": "x"}).status_code == 404
    )
    found = browser.get("/threads/search?q=Quarantined").get_data(as_text=True)
    assert SECRET_TITLE not in found and SECRET_BODY not in found


def test_named_participant_reads_red_thread_and_its_attachment(red_setup, make_browser):
    browser = make_browser(red_setup["named"])
    page = browser.get(f"/threads/{red_setup['thread'].id}").get_data(as_text=True)
    assert SECRET_TITLE in page and SECRET_BODY in page
    assert "For the named participants only" in page
    download = browser.get(f"/threads/attachments/{red_setup['attachment'].id}")
    assert download.status_code == 200 and download.data == b"plain notes"


def test_removed_participant_loses_access_at_once(red_setup, make_browser):
    author_browser = make_browser(red_setup["author"])
    thread_id, named = red_setup["thread"].id, red_setup["named"]
    response = author_browser.post(
        f"/threads/{thread_id}/participants", {"member_id": named.id, "action": "remove"}
    )
    assert response.status_code == 302
    assert make_browser(named).get(f"/threads/{thread_id}").status_code == 404
    response = author_browser.post(
        f"/threads/{thread_id}/participants",
        {"member_id": red_setup["outsider"].id, "action": "add"},
    )
    assert response.status_code == 302
    assert make_browser(red_setup["outsider"]).get(f"/threads/{thread_id}").status_code == 200


def test_only_the_starter_manages_participants(red_setup, make_browser):
    thread_id = red_setup["thread"].id
    response = make_browser(red_setup["named"]).post(
        f"/threads/{thread_id}/participants",
        {"member_id": red_setup["outsider"].id, "action": "add"},
    )
    assert response.status_code == 404
    assert not policy.can_read(red_setup["outsider"], red_setup["thread"])


def test_anonymous_visitor_is_sent_to_sign_in(threads, members, browser):
    thread = threads.start(members.make(), label=tlp.CLEAR)
    response = browser.get(f"/threads/{thread.id}")
    assert response.status_code in (302, 401)


def test_reading_new_posts_of_a_red_thread_is_audited_once_per_new_post_batch(
    red_setup, make_browser, threads
):
    from forum.security.audit import AuditEvent

    def reads() -> list[AuditEvent]:
        db.session.expire_all()
        return list(
            db.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "threads.red_read",
                    AuditEvent.actor_id == red_setup["named"].id,
                )
            )
        )

    browser = make_browser(red_setup["named"])
    thread_id = red_setup["thread"].id
    browser.get(f"/threads/{thread_id}")
    assert [e.target_id for e in reads()] == [thread_id]
    browser.get(f"/threads/{thread_id}")
    assert len(reads()) == 1
    threads.reply(red_setup["author"], red_setup["thread"], "one more")
    browser.get(f"/threads/{thread_id}")
    assert len(reads()) == 2
    assert SECRET_BODY not in reads()[0].details
