"""Categories, threads, posts and everything hanging off a thread.

Everything a member writes is sealed, with associated data naming the row and column
(`post:<id>:body`): title, tags and flag reasons under the thread's data key; each post's body,
rendered HTML and edit history under the post's own data key; each attachment's name and
content under the attachment's own data key. Deleting a post shreds its key and its
attachments' keys; deleting a thread shreds all of them.
What stays in the clear: ids, who wrote what and when, the TLP label, category, counts, flags.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.crypto.sealed import SealedColumns
from forum.db import ID_LENGTH, UTCDateTime, new_id, utcnow
from forum.extensions import db

if TYPE_CHECKING:
    from forum.members.models import Member


class Category(db.Model):  # type: ignore[name-defined]
    """A coordinator-made area of the forum. Its name and description are not confidential."""

    __tablename__ = "thread_categories"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Category {self.id}>"


class Thread(SealedColumns, db.Model):  # type: ignore[name-defined]
    """A discussion under one TLP label; title and tags are sealed under the thread's key."""

    __sealed_table__ = "thread"
    __tablename__ = "threads"
    __table_args__ = (
        Index("ix_threads_listing", "is_pinned", "last_post_at", "id"),
        Index("ix_threads_category_listing", "category_id", "is_pinned", "last_post_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    category_id: Mapped[str | None] = mapped_column(ForeignKey("thread_categories.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    label: Mapped[str] = mapped_column(String(20), index=True)
    title_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    tags_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    origin: Mapped[str | None] = mapped_column(String(80))
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Member] = relationship(foreign_keys=[author_id])
    category: Mapped[Category | None] = relationship()

    def __repr__(self) -> str:
        return f"<Thread {self.id} {self.label}>"


class ThreadParticipant(db.Model):  # type: ignore[name-defined]
    """A member named on a TLP:RED thread (the starter is always one)."""

    __tablename__ = "thread_participants"

    thread_id: Mapped[str] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True, index=True)
    added_by_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<ThreadParticipant {self.thread_id} {self.member_id}>"


class Post(SealedColumns, db.Model):  # type: ignore[name-defined]
    """One post: Markdown source and its sanitised HTML, both sealed; `seq` counts from 1."""

    __sealed_table__ = "post"
    __tablename__ = "thread_posts"
    __table_args__ = (UniqueConstraint("thread_id", "seq", name="uq_thread_posts_thread_seq"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    author_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    html_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    quote_of_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    edit_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[Member] = relationship(foreign_keys=[author_id])

    def __repr__(self) -> str:
        return f"<Post {self.id} thread={self.thread_id} seq={self.seq}>"


class PostRevision(SealedColumns, db.Model):  # type: ignore[name-defined]
    """An earlier version of a post, kept (sealed) when the post is edited."""

    __sealed_table__ = "post_revision"
    __tablename__ = "thread_post_revisions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(
        ForeignKey("thread_posts.id", ondelete="CASCADE"), index=True
    )
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    editor_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    number: Mapped[int] = mapped_column(Integer)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    editor: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<PostRevision {self.id} post={self.post_id} #{self.number}>"


class ReadState(db.Model):  # type: ignore[name-defined]
    """How far a member has read a thread (the highest post seq they were shown)."""

    __tablename__ = "thread_read_states"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    thread_id: Mapped[str] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReadState {self.member_id} {self.thread_id} {self.last_seq}>"


class Watch(db.Model):  # type: ignore[name-defined]
    """A member's follow or mute of one thread or one category (exactly one of the two is set)."""

    __tablename__ = "thread_watches"
    __table_args__ = (
        UniqueConstraint("member_id", "target", name="uq_thread_watches_member_target"),
        Index("ix_thread_watches_thread", "thread_id", "level"),
        Index("ix_thread_watches_category", "category_id", "level"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    target: Mapped[str] = mapped_column(String(40))  # "t:<thread id>" or "c:<category id>"
    thread_id: Mapped[str | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    category_id: Mapped[str | None] = mapped_column(
        ForeignKey("thread_categories.id", ondelete="CASCADE")
    )
    level: Mapped[str] = mapped_column(String(10))  # follow | mute
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship()

    def __repr__(self) -> str:
        return f"<Watch {self.id} {self.level}>"


class Flag(SealedColumns, db.Model):  # type: ignore[name-defined]
    """A member's report of a post to the coordinators; the reason is sealed."""

    __sealed_table__ = "flag"
    __tablename__ = "thread_flags"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("thread_posts.id", ondelete="CASCADE"))
    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    reason_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by_id: Mapped[str | None] = mapped_column(ForeignKey("members.id"))
    resolution: Mapped[str | None] = mapped_column(String(20))  # hidden | dismissed

    reporter: Mapped[Member] = relationship(foreign_keys=[reporter_id])
    post: Mapped[Post] = relationship()

    def __repr__(self) -> str:
        return f"<Flag {self.id} post={self.post_id}>"


class Attachment(SealedColumns, db.Model):  # type: ignore[name-defined]
    """A file on a post, stored sealed on disk under a server-made name; its name is sealed.

    Each has its own data key. One with no post yet is pending: uploaded with a form that came
    back with an error, kept for its uploader only until the form is sent again (or it expires).
    """

    __sealed_table__ = "attachment"
    __tablename__ = "thread_attachments"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    dek_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    thread_id: Mapped[str | None] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[str | None] = mapped_column(
        ForeignKey("thread_posts.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[str] = mapped_column(ForeignKey("members.id"), index=True)
    filename_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Attachment {self.id} thread={self.thread_id}>"


class SearchChange(db.Model):  # type: ignore[name-defined]
    """One change that search indexes must pick up (ids only): the cross-process change counter."""

    __tablename__ = "thread_search_changes"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    thread_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    post_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<SearchChange {self.seq}>"
