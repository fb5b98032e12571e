"""Followers and mentioned readers are told of new posts; nobody who cannot read the thread is;
a RED thread is never named in a notification; e-mails carry only that something is new."""

from __future__ import annotations

from sqlalchemy import select

from forum.extensions import db
from forum.markup import tlp
from forum.notify.models import Notification, OutboxMessage
from forum.notify.outbox import notification_text
from forum.threads import reading
from forum.threads.notices import EMAIL_SUBJECT, RED_TEXT


def _notes(member) -> list[Notification]:  # type: ignore[no-untyped-def]
    return list(db.session.scalars(select(Notification).where(Notification.member_id == member.id)))


def _mails(member) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member.id))
    )


def test_mention_notifies_only_members_who_can_read_the_thread(members, threads):
    author = members.make(name="Anna Starter")
    named = members.make(name="Bea Named")
    outsider = members.make(name="Carl Outside")
    thread = threads.start(author, label=tlp.RED, participants=[named])
    threads.reply(author, thread, "Thoughts, @Bea Named and @Carl Outside?")
    assert [notification_text(n) for n in _notes(named)] == [RED_TEXT] * len(_notes(named))
    assert any(n.kind == "thread_mention" for n in _notes(named))
    assert _notes(outsider) == [] and _mails(outsider) == []


def test_mention_in_open_thread_names_title_and_label_in_app_but_not_in_mail(members, threads):
    author, mentioned = members.make(), members.make(name="Dora Mentioned")
    thread = threads.start(author, label=tlp.GREEN, title="Debrief of the drill")
    threads.reply(author, thread, "Over to you @dora mentioned.")
    note = next(n for n in _notes(mentioned) if n.kind == "thread_mention")
    assert "Debrief of the drill" in notification_text(note) and "TLP:GREEN" in notification_text(
        note
    )
    for mail in _mails(mentioned):
        assert "Debrief" not in mail.subject + mail.body and "Over to you" not in mail.body
        assert f"/threads/{thread.id}" in mail.body


def test_followers_of_a_red_thread_get_content_free_notices(members, threads):
    author, named = members.make(), members.make()
    thread = threads.start(author, label=tlp.RED, participants=[named], title="Secret RED title")
    threads.reply(author, thread, "Secret RED post")
    notes = [n for n in _notes(named) if n.kind == "thread_post"]
    assert notes and all(notification_text(n) == RED_TEXT for n in notes)
    mails = _mails(named)
    assert mails and all(m.subject == EMAIL_SUBJECT for m in mails)
    assert all("Secret" not in m.subject + m.body for m in mails)


def test_category_followers_hear_of_new_threads_and_muting_a_thread_silences_it(members, threads):
    follower, author = members.make(), members.make()
    category = threads.category()
    reading.set_watch(follower, "follow", category=category)
    db.session.commit()
    thread = threads.start(author, category=category)
    assert [n.kind for n in _notes(follower)] == ["thread_new"]
    reading.set_watch(follower, "mute", thread=thread)
    db.session.commit()
    threads.reply(author, thread, "Nobody muted hears this")
    assert [n.kind for n in _notes(follower)] == ["thread_new"]


def test_repliers_follow_the_thread_and_are_not_told_of_their_own_posts(members, threads):
    author, replier = members.make(), members.make()
    thread = threads.start(author, label=tlp.CLEAR)
    threads.reply(replier, thread, "first reply")
    assert [n.kind for n in _notes(author)] == ["thread_post"]
    assert _notes(replier) == []
    threads.reply(author, thread, "answer")
    assert [n.kind for n in _notes(replier)] == ["thread_post"]


def test_member_who_cannot_read_is_never_notified_even_if_following(members, threads):
    author, removed = members.make(), members.make()
    thread = threads.start(author, label=tlp.RED, participants=[removed])
    reading.set_watch(removed, "follow", thread=thread)
    db.session.commit()
    from forum.threads import services

    services.remove_participant(actor=author, thread=thread, member=removed)
    db.session.commit()
    threads.reply(author, thread, "after removal")
    assert [n for n in _notes(removed) if n.kind == "thread_post"] == []
