"""What the threads pages show: view models built from the services, with the member's rights
as booleans (templates never ask forum.threads.policy themselves)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from forum.markup import markdown, tlp
from forum.members import services as members_services
from forum.threads import attachments, content, policy, reading, services
from forum.threads.models import Thread

if TYPE_CHECKING:
    from forum.members.models import Member


def thread_page(member: Member, thread: Thread, page: int | None) -> dict[str, Any]:
    """A page of a readable thread: its posts, files, names, rights, and the read marker moved
    forward once the request commits."""
    seen = reading.last_read(member, thread)
    pages = reading.page_count(thread)
    page = min(max(page or reading.first_unread_page(thread, seen), 1), pages)
    posts = reading.posts_page(member, thread, page)
    if posts:
        reading.record_read(member, thread, posts[-1].seq, seen)
    return {
        "thread": thread,
        "title": content.title(thread),
        "tags": content.tags(thread),
        "label": tlp.get(thread.label),
        "posts": posts,
        "files": attachments.for_posts([p.id for p in posts]),
        "authors": members_services.display_names({p.author_id for p in posts}),
        "page": page,
        "pages": pages,
        "seen": seen,
        "can": policy.thread_rights(member, thread),
        "post_can": policy.post_rights(member, thread, posts),
        "watch": reading.watch_level(member, thread=thread),
        "participants": reading.participants_shown(member, thread),
        "content": content,
        "tlp": tlp,
    }


def quote(member: Member, thread: Thread, post_id: str) -> tuple[str, str] | None:
    """The Markdown quote of a readable post of this same thread, and its id; None otherwise."""
    quoted = services.quote_for(member, thread, post_id) if post_id else None
    if quoted is None:
        return None
    return markdown.quote(content.post_source(quoted), quoted.author.display_name), quoted.id


def existence_page(thread: Thread) -> dict[str, Any]:
    """What a coordinator who may not read a RED thread is told of it."""
    return {"thread": thread, "tlp": tlp, "starter": thread.author.display_name}


def readable(member: Member, thread: Thread) -> bool:
    """Whether the member may read the thread (else they may only know it exists)."""
    return policy.can_read(member, thread)


def member_choices(*, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Active members as (id, name) choices, sorted by name."""
    members = members_services.active_members(exclude=exclude)
    return sorted(((m.id, m.display_name) for m in members), key=lambda c: c[1].casefold())


def manage_rights(member: Member, thread: Thread) -> dict[str, bool]:
    """The member's rights on the manage page; NotFound unless they may manage anything."""
    rights = policy.thread_rights(member, thread)
    if not rights["manage"]:
        raise services.NotFound()
    return rights
