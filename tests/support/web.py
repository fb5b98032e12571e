"""The web tests' Exchange: real objects of every feature, with canary strings in their
confidential fields."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from forum.members.models import Member


def canary(kind: str) -> str:
    """A unique word to find again (or not) in pages, logs and feeds."""
    # Letters only, so that search tokenisers and Markdown keep it as one word.
    return f"canary{kind}" + "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(12))


@dataclass
class World:
    """An Exchange with confidential content written through the services."""

    email: str
    texts: list[str]
    known_ids: dict[str, str]
    readers: list[Member] = field(default_factory=list)

    @property
    def canaries(self) -> list[str]:
        return [self.email, *self.texts]
