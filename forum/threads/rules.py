"""The shared rules of writing in threads: limits, tags, a body's checks, follow and search marks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import select

from forum.db import new_id, utcnow
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.threads import pii, rendered
from forum.threads.errors import PersonalDataWarning, ThreadError
from forum.threads.models import (
    SearchChange,
    Thread,
    Watch,
)

if TYPE_CHECKING:
    from forum.members.models import Member


MAX_TITLE = 200
MAX_BODY = 60_000
MAX_TAGS = 8
TITLE_TOO_LONG = _l(
    "A title may be at most %(limit)d characters long. Please shorten it.", limit=MAX_TITLE
)
BODY_TOO_LONG = _l(
    "A post may be at most %(limit)s characters long. Please shorten it.",
    limit=format(MAX_BODY, ","),
)

TAG_PATTERN = re.compile(r"^[\w][\w.+-]{0,39}$", re.UNICODE)


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Tags as stored: trimmed, lower-case, unique, at most eight; refuses odd characters."""
    result: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#").casefold()
        if not tag:
            continue
        if not TAG_PATTERN.match(tag):
            raise ThreadError(
                _(
                    "The tag “%(tag)s” may use only letters, digits, '-', '+' and '.', "
                    "up to 40 characters.",
                    tag=tag[:40],
                ),
                field="tags",
            )
        if tag not in result:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise ThreadError(
            _("A thread may carry at most %(limit)d tags.", limit=MAX_TAGS), field="tags"
        )
    return result


def check_body(body: str, pii_confirmed: bool) -> str:
    body = body.strip()
    if not body:
        raise ThreadError(_("Please write something."))
    if len(body) > MAX_BODY:
        raise ThreadError(str(BODY_TOO_LONG))
    if not pii_confirmed:
        findings = pii.scan(body)
        if findings:
            raise PersonalDataWarning(findings)
    return body


def record_change(thread_id: str, post_id: str | None = None) -> None:
    """A thread or post changed: every process's search index follows it, and this process
    drops the thread's rendered lists once the change is committed."""
    db.session.add(SearchChange(thread_id=thread_id, post_id=post_id, created_at=utcnow()))
    rendered.forget_after_commit(thread_id)


def follow(member: Member, thread: Thread, level: str = "follow") -> None:
    target = f"t:{thread.id}"
    existing = db.session.scalar(
        select(Watch).where(Watch.member_id == member.id, Watch.target == target)
    )
    if existing is None:
        db.session.add(
            Watch(
                id=new_id(),
                member_id=member.id,
                target=target,
                thread_id=thread.id,
                level=level,
                created_at=utcnow(),
            )
        )
