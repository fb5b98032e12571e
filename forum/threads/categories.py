"""Categories: the network's standard ones, created idempotently, and coordinator-made ones."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, exists, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from forum.db import UTCDateTime, new_id, utcnow
from forum.extensions import db
from forum.security import audit
from forum.threads import policy
from forum.threads.errors import NotFound, ThreadError
from forum.threads.models import Category, Thread, Watch

if TYPE_CHECKING:
    from forum.members.models import Member

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
    """Create the network's standard categories on a network that has none (first start).

    Run by the first-start preparation (`exchange init` / `serve`). Only a network with no
    category at all gets them, so a default a coordinator renamed or removed never comes back;
    the insert skips a slug that exists, so processes starting at once never make two.
    """
    now = utcnow()
    rows = union_all(
        *(
            select(
                literal(new_id()).label("id"),
                literal(slug).label("slug"),
                literal(name).label("name"),
                literal(description).label("description"),
                literal(position).label("position"),
                literal(now, UTCDateTime()).label("created_at"),
            ).where(~exists().where(Category.id.is_not(None)))
            for position, (slug, name, description) in enumerate(DEFAULT_CATEGORIES)
        )
    )
    columns = ["id", "slug", "name", "description", "position", "created_at"]
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # One statement: it takes SQLite's write lock before it reads, and skips a slug that exists.
    db.session.execute(insert(Category).from_select(columns, rows).on_conflict_do_nothing())
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
    policy.require_coordinator(actor)
    name = name.strip()
    if not name or len(name) > 120:
        raise ThreadError(
            _("A category needs a name of at most %(n)s characters.", n=120), field="name"
        )
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:70] or new_id()[:8]
    if category_by_slug(slug) is not None:
        raise ThreadError(_("A category with this name already exists."), field="name")
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
    audit.record(
        "threads.category_created", actor=actor, target_type="category", target_id=category.id
    )
    return category


def _check_name(name: str, *, other_than: Category | None = None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise ThreadError(
            _("A category needs a name of at most %(n)s characters.", n=120), field="name"
        )
    for existing in list_categories():
        if existing is not other_than and existing.name.casefold() == name.casefold():
            raise ThreadError(_("A category with this name already exists."), field="name")
    return name


def rename_category(*, actor: Member, category: Category, name: str, description: str) -> None:
    """Rename a category or change its description (coordinators); its address stays the same."""
    policy.require_coordinator(actor)
    category.name = _check_name(name, other_than=category)
    category.description = description.strip()[:1000]
    db.session.flush()
    audit.record(
        "threads.category_renamed", actor=actor, target_type="category", target_id=category.id
    )


def coordinator_category(member: Member, category_id: str) -> Category:
    """A category for a coordinator to change: NotAllowed for anyone else, NotFound if none."""
    policy.require_coordinator(member)
    found = db.session.get(Category, category_id)
    if found is None:
        raise NotFound(_("There is nothing here, or it is not yours to see."))
    return found


def thread_count(category: Category) -> int:
    """How many threads (of any label) are in the category."""
    return db.session.scalar(select(func.count()).where(Thread.category_id == category.id)) or 0


def remove_category(*, actor: Member, category: Category) -> None:
    """Remove an empty category (coordinators); one with threads, or the last one, is refused."""
    policy.require_coordinator(actor)
    count = thread_count(category)
    if count:
        raise ThreadError(
            ngettext(
                "This category still holds %(num)d thread: move them to another category first.",
                "This category still holds %(num)d threads: move them to another category first.",
                count,
            )
        )
    if len(list_categories()) <= 1:
        raise ThreadError(_("The network needs at least one category to start threads in."))
    db.session.execute(delete(Watch).where(Watch.category_id == category.id))
    db.session.delete(category)
    db.session.flush()
    audit.record(
        "threads.category_removed", actor=actor, target_type="category", target_id=category.id
    )
