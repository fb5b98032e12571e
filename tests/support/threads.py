"""Threads for tests: started and answered through forum.threads.services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forum.extensions import db
from forum.members.models import Member
from forum.threads import services
from forum.threads.models import Category, Thread


class Threads:
    """Starts threads and replies through the service, committing like a route would."""

    def category(self) -> Category:
        categories = services.ensure_default_categories()
        db.session.commit()
        return categories[0]

    def start(
        self,
        author: Member,
        *,
        label: str = "AMBER",
        title: str = "Working with families after an attack",
        body: str = "What we learned about the first 48 hours.",
        participants: Sequence[Member] = (),
        tags: Sequence[str] = (),
        **kwargs: Any,
    ) -> Thread:
        thread = services.start_thread(
            author=author,
            category=kwargs.pop("category", None) or self.category(),
            title=title,
            body=body,
            label=label,
            participants=participants,
            tags=tags,
            **kwargs,
        )
        db.session.commit()
        return thread

    def reply(self, author: Member, thread: Thread, body: str, **kwargs: Any) -> Any:
        post = services.reply(author=author, thread=thread, body=body, pii_confirmed=True, **kwargs)
        db.session.commit()
        return post
