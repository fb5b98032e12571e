"""Telling members about new threads, posts, mentions and being added to a RED thread.

Recipients are always filtered through policy.can_read. In-app texts are sealed under the
thread's key (shredding the thread shreds them); for a TLP:RED thread they name nothing.
E-mails never carry a title or a post: only that there is something new, and a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import false, or_, select

from forum.extensions import db
from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.markup import tlp
from forum.members import services as members_services
from forum.notify.outbox import notify
from forum.threads import content, policy
from forum.threads.models import Post, Thread, ThreadParticipant, Watch

if TYPE_CHECKING:
    from forum.members.models import Member

RED_TEXT = _l("New activity in a TLP:RED thread you take part in")
EMAIL_SUBJECT = _l("There is something new in a thread you follow")
MENTION_SUBJECT = _l("Someone mentioned you in a thread")
ADDED_SUBJECT = _l("You were added to a thread")


def _link(thread: Thread, post: Post | None = None) -> str:
    if post is None:
        return f"/threads/{thread.id}"
    page = (post.seq - 1) // 20 + 1
    return f"/threads/{thread.id}?page={page}#post-{post.seq}"


def _email_body(subject: Text, link: str) -> Text:
    return _l(
        "%(subject)s.\n\nOpen it in the Exchange (sign-in required):\n%(link)s\n",
        subject=subject,
        link=link,
    )


def _text(thread: Thread, kind: str, **values: str) -> Text:
    if thread.label == tlp.RED:
        return RED_TEXT
    title = content.title(thread)
    label = tlp.get(thread.label).display
    if kind == "new":
        return _l("New thread “%(title)s” [%(label)s]", title=title, label=label)
    if kind == "post":
        return _l("New post in “%(title)s” [%(label)s]", title=title, label=label)
    if kind == "mention":
        return _l(
            "%(name)s mentioned you in “%(title)s” [%(label)s]",
            name=values["name"],
            title=title,
            label=label,
        )
    return _l("Added to “%(title)s” [%(label)s]", title=title, label=label)


def followers(thread: Thread) -> list[Member]:
    """Members who follow the thread or its category and have not muted the thread."""
    rows = db.session.scalars(
        select(Watch).where(
            or_(
                Watch.thread_id == thread.id,
                (Watch.category_id == thread.category_id) if thread.category_id else false(),
            )
        )
    ).all()
    muted = {w.member_id for w in rows if w.level == "mute" and w.thread_id == thread.id}
    muted_category = {w.member_id for w in rows if w.level == "mute" and w.category_id}
    follows_thread = {w.member_id for w in rows if w.level == "follow" and w.thread_id}
    follows_category = {w.member_id for w in rows if w.level == "follow" and w.category_id}
    wanted = follows_thread | (follows_category - muted_category)
    if thread.label == tlp.RED:
        # Everyone named on a RED thread hears of it unless they muted it.
        wanted |= set(
            db.session.scalars(
                select(ThreadParticipant.member_id).where(ThreadParticipant.thread_id == thread.id)
            )
        )
    wanted -= muted
    if not wanted:
        return []
    members = members_services.members_by_id(wanted).values()
    return [m for m in members if policy.can_read(m, thread)]


def mentioned(thread: Thread, text: str, candidates: Iterable[Member]) -> list[Member]:
    """Members named as @Name in the text who may read the thread."""
    if "@" not in text:
        return []
    lowered = text.casefold()
    found: list[Member] = []
    for member in candidates:
        name = member.display_name.casefold()
        if not name:
            continue
        pattern = re.compile(r"(?<![\w@])@" + re.escape(name) + r"(?![\w])")
        if pattern.search(lowered) and policy.can_read(member, thread):
            found.append(member)
    return found


def _active_members() -> list[Member]:
    return members_services.active_members()


def _send(thread: Thread, post: Post, actor: Member, kind: str) -> None:
    link = _link(thread, post)
    readers = (
        _active_members()
        if thread.label != tlp.RED
        else [m for m in _active_members() if policy.is_participant(m, thread)]
    )
    mentions = [
        m for m in mentioned(thread, content.post_source(post), readers) if m.id != actor.id
    ]
    if mentions:
        notify(
            mentions,
            event_key=f"thread-mention:{post.id}",
            kind="thread_mention",
            text=_text(thread, "mention", name=actor.display_name),
            key=thread.dek_id,
            link=link,
            email_subject=MENTION_SUBJECT,
            email_body=_email_body(MENTION_SUBJECT, link),
        )
    skip = {actor.id, *(m.id for m in mentions)}
    recipients = [m for m in followers(thread) if m.id not in skip]
    if recipients:
        notify(
            recipients,
            event_key=f"thread-{kind}:{post.id}",
            kind=f"thread_{kind}",
            text=_text(thread, kind),
            key=thread.dek_id,
            link=link,
            email_subject=EMAIL_SUBJECT,
            email_body=_email_body(EMAIL_SUBJECT, link),
        )


def new_thread(thread: Thread, post: Post, actor: Member) -> None:
    """Tell category followers (and a RED thread's participants) of a new thread."""
    _send(thread, post, actor, "new")


def new_post(thread: Thread, post: Post, actor: Member) -> None:
    """Tell followers of a thread (and mentioned readers) of a new post."""
    _send(thread, post, actor, "post")


def added_to_thread(thread: Thread, member: Member, actor: Member) -> None:
    """Tell a member they were added to a RED thread (without naming it)."""
    link = _link(thread)
    notify(
        [member],
        event_key=f"thread-added:{thread.id}:{member.id}:{thread.last_seq}",
        kind="thread_added",
        text=_text(thread, "added"),
        key=thread.dek_id,
        link=link,
        email_subject=ADDED_SUBJECT,
        email_body=_email_body(ADDED_SUBJECT, link),
    )
