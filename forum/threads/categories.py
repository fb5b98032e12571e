"""Categories: the network's standard ones, created idempotently, and coordinator-made ones."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.security import audit
from forum.threads.errors import ThreadError
from forum.threads.models import Category

DEFAULT_CATEGORIES: list[tuple[str, str, str]] = [
    (
        "lessons-learned",
        "Lessons learned",
        "What went well and what did not after an attack: what the network should remember.",
    ),
    ("good-practice", "Good practice", "Ways of working with victims that members recommend."),
    ("urgent-questions", "Urgent questions", "Questions that need an answer from peers quickly."),
    ("symposium", "Symposium", "Preparing and following up the annual symposium."),
    ("network-business", "Network business", "How the network itself is run."),
]


def ensure_default_categories() -> list[Category]:
    """Create the network's standard categories if they are missing (idempotent)."""
    existing = {c.slug: c for c in db.session.scalars(select(Category))}
    for position, (slug, name, description) in enumerate(DEFAULT_CATEGORIES):
        if slug not in existing:
            existing[slug] = Category(
                id=new_id(),
                slug=slug,
                name=name,
                description=description,
                position=position,
                created_at=utcnow(),
            )
            db.session.add(existing[slug])
    db.session.flush()
    return list_categories()


def list_categories() -> list[Category]:
    """Every category, in display order."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def category_by_slug(slug: str) -> Category | None:
    """The category with this slug."""
    return db.session.scalar(select(Category).where(Category.slug == slug))


def create_category(*, actor: Member, name: str, description: str = "") -> Category:
    """Create a category (coordinators only)."""
    if not actor.is_coordinator:
        raise ThreadError("Only coordinators create categories.")
    name = name.strip()
    if not name or len(name) > 120:
        raise ThreadError("A category needs a name of at most 120 characters.")
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:70] or new_id()[:8]
    if category_by_slug(slug) is not None:
        raise ThreadError("A category with this name already exists.")
    last = db.session.scalar(select(func.max(Category.position))) or 0
    category = Category(
        id=new_id(),
        slug=slug,
        name=name,
        description=description.strip(),
        position=last + 1,
        created_at=utcnow(),
    )
    db.session.add(category)
    db.session.flush()
    audit.record("threads.category_created", actor=actor, target_type="category",
                 target_id=category.id)  # fmt: skip
    return category
