"""Reading: thread lists, pages of posts, unread markers, follow and mute.

Pages of a thread are ranges of its dense post sequence (`seq`), so page 5,000 of a thread with
100,000 posts is one index range scan on (thread_id, seq), as fast as page 1. Thread lists page
by keyset on (is_pinned, last_post_at, id). An unread marker is one short upsert on its own
connection, written only when it moves forward: readers never wait on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum import db as uow
from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.markup import tlp
from forum.members import services as members_services
from forum.security.audit import AuditEvent
from forum.threads import content, policy
from forum.threads.models import Category, Post, ReadState, Thread, ThreadParticipant, Watch

if TYPE_CHECKING:
    from forum.members.models import Member

PAGE_SIZE = 20
LIST_SIZE = 30


@dataclass
class ThreadRow:
    """One line of a thread list: the thread, its title if the viewer may read it, unread count."""

    thread: Thread
    title: str | None
    unread: int
    is_new: bool


@dataclass
class Listing:
    """A page of a thread list and the cursor of the next page."""

    rows: list[ThreadRow]
    next_cursor: str | None


def _cursor(thread: Thread) -> str:
    return f"{int(thread.is_pinned)}~{thread.last_post_at.isoformat()}~{thread.id}"


def _parse_cursor(cursor: str) -> tuple[bool, datetime, str] | None:
    try:
        pinned, stamp, thread_id = cursor.split("~")
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return pinned == "1", moment, thread_id
    except ValueError:
        return None


def list_threads(
    member: Member,
    *,
    category: Category | None = None,
    cursor: str | None = None,
    limit: int = LIST_SIZE,
) -> Listing:
    """Threads the member may know exist, pinned first, newest activity first."""
    query = select(Thread).where(policy.visible_clause(member))
    if category is not None:
        query = query.where(Thread.category_id == category.id)
    parsed = _parse_cursor(cursor) if cursor else None
    if parsed is not None:
        pinned, stamp, thread_id = parsed
        tail = or_(
            Thread.last_post_at < stamp,
            and_(Thread.last_post_at == stamp, Thread.id < thread_id),
        )
        after = and_(Thread.is_pinned.is_(pinned), tail)
        if pinned:
            after = or_(after, Thread.is_pinned.is_(False))
        query = query.where(after)
    query = query.order_by(
        Thread.is_pinned.desc(), Thread.last_post_at.desc(), Thread.id.desc()
    ).limit(limit + 1)
    threads = list(db.session.scalars(query))
    more = len(threads) > limit
    threads = threads[:limit]
    states = _read_states(member, [t.id for t in threads])
    rows = []
    for thread in threads:
        readable = policy.can_read(member, thread)
        seen = states.get(thread.id)
        rows.append(
            ThreadRow(
                thread=thread,
                title=content.title(thread) if readable else None,
                unread=max(thread.last_seq - seen, 0) if readable and seen is not None else 0,
                is_new=readable and seen is None,
            )
        )
    return Listing(rows, _cursor(threads[-1]) if more and threads else None)


def _read_states(member: Member, thread_ids: list[str]) -> dict[str, int]:
    if not thread_ids:
        return {}
    rows = db.session.execute(
        select(ReadState.thread_id, ReadState.last_seq).where(
            ReadState.member_id == member.id, ReadState.thread_id.in_(thread_ids)
        )
    )
    return {thread_id: seq for thread_id, seq in rows}


def last_read(member: Member, thread: Thread) -> int | None:
    """The highest post seq the member has been shown in the thread (None: never visited)."""
    return _read_states(member, [thread.id]).get(thread.id)


def page_count(thread: Thread) -> int:
    """How many pages the thread's posts fill."""
    return max((thread.last_seq + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def first_unread_page(thread: Thread, seen: int | None) -> int:
    """The page holding the first post the member has not seen (the last page if none)."""
    if seen is None:
        return 1
    return min(seen // PAGE_SIZE + 1, page_count(thread))


def posts_page(member: Member, thread: Thread, page: int) -> list[Post]:
    """One page of a thread's posts, for a member who may read it."""
    if not policy.can_read(member, thread):
        raise LookupError(thread.id)
    page = min(max(page, 1), page_count(thread))
    low, high = (page - 1) * PAGE_SIZE, page * PAGE_SIZE
    posts = list(
        db.session.scalars(
            select(Post)
            .where(Post.thread_id == thread.id, Post.seq > low, Post.seq <= high)
            .order_by(Post.seq)
        )
    )
    envelope.preload({p.dek_id for p in posts if not p.is_deleted})  # each post has its own key
    return posts


def record_read(member: Member, thread: Thread, seq: int, seen: int | None) -> None:
    """Move the member's read marker forward to `seq` once this request's work is committed
    (for a TLP:RED thread: at once, with its audit row, before the page is shown).

    The marker is one short upsert, only if it moves, written after the commit on its own
    connection and transaction, so a GET never holds a write lock while it renders, and readers
    of the thread never wait on it (WAL on SQLite, row lock on PostgreSQL). For a TLP:RED thread
    the same transaction appends who read how many new posts to the audit log (ids and a count).
    """
    if seen is not None and seen >= seq:
        return
    member_id, thread_id, label = member.id, thread.id, thread.label
    if label == tlp.RED:
        # A RED read is audited before its page is shown, or not shown at all: written now on
        # its own short transaction, a failure ends the request (an error page, not the text).
        _write_read(member_id, thread_id, label, seq, seen)
        return
    uow.after_commit(
        lambda: _write_read(member_id, thread_id, label, seq, seen),
        once=f"threads.read:{thread_id}",
    )


def _write_read(member_id: str, thread_id: str, label: str, seq: int, seen: int | None) -> None:
    now = utcnow()
    values = {"member_id": member_id, "thread_id": thread_id, "last_seq": seq, "updated_at": now}
    engine = db.engine
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(ReadState).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=[ReadState.member_id, ReadState.thread_id],
        set_={"last_seq": statement.excluded.last_seq, "updated_at": statement.excluded.updated_at},
        where=ReadState.last_seq < statement.excluded.last_seq,
    )
    with engine.connect().execution_options(sqlite_immediate=True) as connection:
        with connection.begin():
            connection.execute(statement)
            if label == tlp.RED:
                details = json.dumps({"count": seq - (seen or 0), "label": tlp.RED}, sort_keys=True)
                connection.execute(
                    AuditEvent.__table__.insert().values(
                        id=new_id(),
                        at=now,
                        actor_id=member_id,
                        action="threads.red_read",
                        target_type="thread",
                        target_id=thread_id,
                        details=details,
                    )
                )


def mark_all_read(member: Member, thread: Thread) -> None:
    """Mark every post of the thread as read."""
    record_read(member, thread, thread.last_seq, last_read(member, thread))


def participant_ids(thread: Thread) -> list[str]:
    """The ids of the members named on a thread (its starter is not among them)."""
    return list(
        db.session.scalars(
            select(ThreadParticipant.member_id).where(ThreadParticipant.thread_id == thread.id)
        )
    )


@dataclass
class Participant:
    """Who is on a TLP:RED thread, as its readers see them."""

    name: str
    organisation: str
    is_starter: bool


def participants_shown(member: Member, thread: Thread) -> list[Participant]:
    """The named participants of a RED thread (starter first, then by name), for its readers
    only; empty for any other label (every member may read those)."""
    if thread.label != tlp.RED or not policy.can_read(member, thread):
        return []
    named = members_services.members_by_id({thread.author_id, *participant_ids(thread)})
    people = [
        Participant(
            m.display_name, m.organisation.name if m.organisation else "", m.id == thread.author_id
        )
        for m in named.values()
    ]
    return sorted(people, key=lambda p: (not p.is_starter, p.name.casefold()))


# --- follow and mute ----------------------------------------------------------------------


def watch_level(
    member: Member, *, thread: Thread | None = None, category: Category | None = None
) -> str:
    """The member's level for a thread or category: "follow", "mute" or "" (default)."""
    target = f"t:{thread.id}" if thread is not None else f"c:{category.id}" if category else ""
    level = db.session.scalar(
        select(Watch.level).where(Watch.member_id == member.id, Watch.target == target)
    )
    return level or ""


def set_watch(
    member: Member, level: str, *, thread: Thread | None = None, category: Category | None = None
) -> None:
    """Follow, mute, or go back to the default for a thread (readable) or a category."""
    if level not in ("follow", "mute", ""):
        raise ValueError(level)
    if thread is not None and not policy.can_read(member, thread):
        raise LookupError(thread.id)
    target = f"t:{thread.id}" if thread is not None else f"c:{category.id}" if category else ""
    if not target:
        raise ValueError("a thread or a category")
    existing = db.session.scalar(
        select(Watch).where(Watch.member_id == member.id, Watch.target == target)
    )
    if not level:
        if existing is not None:
            db.session.delete(existing)
    elif existing is not None:
        existing.level = level
    else:
        db.session.add(
            Watch(
                id=new_id(),
                member_id=member.id,
                target=target,
                thread_id=thread.id if thread else None,
                category_id=category.id if category and not thread else None,
                level=level,
                created_at=utcnow(),
            )
        )
    db.session.flush()


def unread_threads(member: Member, *, limit: int = 5) -> list[ThreadRow]:
    """The member's readable threads with posts she has not read, latest activity first."""
    rows = list_threads(member).rows
    return [row for row in rows if row.title is not None and (row.unread or row.is_new)][:limit]
