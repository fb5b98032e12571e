"""The bell: a member's in-app notifications, the unread count, marking read."""

from __future__ import annotations

import re

from forum.crypto import envelope
from forum.extensions import db
from forum.notify.models import Notification
from forum.notify.outbox import notify


def _notify(member, n: int, *, key=None, text="Someone answered in a thread you follow"):
    key = key or envelope.new_data_key("test")
    for i in range(n):
        notify(
            [member],
            event_key=f"test:{key.id}:{i}",
            kind="thread.reply",
            text=f"{text} #{i}",
            key=key,
            link=f"/threads/{i}",
            channels=("inapp",),
        )
    db.session.commit()
    return key


def test_bell_shows_unread_count_in_the_layout(members, make_browser):
    alice = members.make()
    _notify(alice, 3)
    page = make_browser(alice).get("/notifications").get_data(as_text=True)
    assert re.search(r'id="bell-count" class="count">3<', page)


def test_bell_count_is_empty_when_everything_is_read(members, make_browser):
    alice = members.make()
    page = make_browser(alice).get("/notifications").get_data(as_text=True)
    assert 'id="bell-count" class="count"><' in page
    assert "Nothing yet" in page


def test_member_sees_own_notifications_newest_first_with_opened_text(members, make_browser):
    alice = members.make()
    _notify(alice, 3)
    page = make_browser(alice).get("/notifications").get_data(as_text=True)
    positions = [page.index(f"Someone answered in a thread you follow #{i}") for i in (2, 1, 0)]
    assert positions == sorted(positions)


def test_member_never_sees_another_members_notifications(members, make_browser):
    alice, bob = members.make(), members.make()
    _notify(alice, 1, text="Only for Alice")
    page = make_browser(bob).get("/notifications").get_data(as_text=True)
    assert "Only for Alice" not in page


def test_opening_a_notification_marks_it_read_and_goes_to_its_link(members, make_browser):
    alice = members.make()
    _notify(alice, 1)
    notification = db.session.scalars(db.select(Notification)).one()
    db.session.commit()  # the test client shares this session: end the read transaction
    response = make_browser(alice).post(f"/notifications/{notification.id}/read", {"go": "1"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/threads/0"
    db.session.refresh(notification)
    assert notification.read_at is not None


def test_member_cannot_mark_another_members_notification(members, make_browser):
    alice, bob = members.make(), members.make()
    _notify(alice, 1)
    notification = db.session.scalars(db.select(Notification)).one()
    db.session.commit()  # the test client shares this session: end the read transaction
    response = make_browser(bob).post(f"/notifications/{notification.id}/read", {"go": "1"})
    assert response.status_code == 404
    db.session.refresh(notification)
    assert notification.read_at is None


def test_mark_all_read_empties_the_count(members, make_browser):
    alice = members.make()
    _notify(alice, 4)
    browser = make_browser(alice)
    assert browser.get("/notifications/count").get_json() == {"unread": 4}
    assert browser.post("/notifications/read-all").status_code == 302
    assert browser.get("/notifications/count").get_json() == {"unread": 0}


def test_bell_is_paginated(members, make_browser):
    alice = members.make()
    _notify(alice, 30)
    browser = make_browser(alice)
    first = browser.get("/notifications").get_data(as_text=True)
    second = browser.get("/notifications?page=2").get_data(as_text=True)
    assert "#29<" in first and "Older" in first
    assert "#0<" in second and "#29<" not in second and "Newer" in second


def test_notification_of_a_shredded_object_says_it_was_deleted(members, make_browser):
    alice = members.make()
    key = _notify(alice, 1, text="Secret subject")
    envelope.shred(key)
    db.session.commit()
    page = make_browser(alice).get("/notifications").get_data(as_text=True)
    assert "subject has been deleted" in page
    assert "Secret subject" not in page


def test_opening_never_redirects_off_site(members, make_browser):
    alice = members.make()
    key = envelope.new_data_key("test")
    notify(
        [alice],
        event_key="x",
        kind="k",
        text="t",
        key=key,
        link="//evil.example/x",
        channels=("inapp",),
    )
    db.session.commit()
    notification = db.session.scalars(db.select(Notification)).one()
    db.session.commit()  # the test client shares this session: end the read transaction
    response = make_browser(alice).post(f"/notifications/{notification.id}/read", {"go": "1"})
    assert response.headers["Location"] == "/notifications"
