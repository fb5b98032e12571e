"""Member and organisation services: the rules, callable from views, CLI, jobs and tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import gettext as _
from sqlalchemy import Select, select

from forum.crypto import blind_index, envelope
from forum.db import new_id, utcnow
from forum.errors import Invalid
from forum.extensions import db
from forum.members.models import ROLES, SECTORS, Member, Organisation
from forum.members.passwords import hash_password, password_problem

EMAIL_INDEX = "member.email"


def email_index(address: str) -> bytes:
    """The blind index of an e-mail address (exact, case-insensitive lookups)."""
    return blind_index(EMAIL_INDEX, address)


def find_member_by_email(address: str) -> Member | None:
    """The member with this e-mail address, found through the blind index."""
    return db.session.scalar(select(Member).where(Member.email_index == email_index(address)))


def get_or_create_organisation(name: str, country: str = "", sector: str = "other") -> Organisation:
    """The organisation with this name, created if it does not exist yet."""
    name = name.strip()
    if not name:
        raise Invalid(_("An organisation needs a name."))
    if sector not in SECTORS:
        raise Invalid(_("Choose one of the listed sectors."))
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(
            id=new_id(), name=name, country=country.upper()[:2], sector=sector, created_at=utcnow()
        )
        db.session.add(organisation)
        db.session.flush()
    return organisation


def create_member(
    *,
    email: str,
    name: str,
    password: str | None = None,
    password_hash: str | None = None,
    role: str = "member",
    organisation: Organisation | None = None,
    country: str = "",
    timezone: str = "UTC",
    expertise: str = "",
    languages: str = "",
    contact_point_countries: Sequence[str] = (),
    sponsor: Member | None = None,
) -> Member:
    """Create an active member with sealed name and address and an Argon2id password hash.

    `password_hash` (an Argon2id hash made earlier) replaces `password` when many members are
    created at once, e.g. by fixtures and benchmarks: each hash costs about 0.1 s.
    """
    if role not in ROLES:
        raise Invalid(_("A member's role is coordinator or member."))
    if not name.strip():
        raise Invalid(_("Please give your name."))
    if password_hash is None:
        problem = password_problem(password or "")
        if problem:
            raise Invalid(problem)
        password_hash = hash_password(password or "")
    if find_member_by_email(email) is not None:
        raise Invalid(_("A member with this e-mail address already exists."))
    key = envelope.new_data_key("member")
    member_id = new_id()
    member = Member(
        id=member_id,
        dek_id=key.id,
        organisation=organisation,
        email_index=email_index(email),
        email_sealed=envelope.seal(
            key, envelope.context("member", member_id, "email"), email.strip()
        ),
        name_sealed=envelope.seal(key, envelope.context("member", member_id, "name"), name.strip()),
        country=country.upper()[:2],
        timezone=timezone,
        expertise=expertise,
        languages=languages,
        contact_point_countries=",".join(c.upper() for c in contact_point_countries),
        role=role,
        status="active",
        password_hash=password_hash,
        password_changed_at=utcnow(),
        created_at=utcnow(),
        sponsor_id=sponsor.id if sponsor else None,
    )
    db.session.add(member)
    db.session.flush()
    return member


def set_sealed(member: Member, column: str, value: str) -> None:
    """Seal a new value into one of the member's sealed text columns (name, email)."""
    blob = envelope.seal(member.dek_id, envelope.context("member", member.id, column), value)
    setattr(member, f"{column}_sealed", blob)
    if column == "email":
        member.email_index = email_index(value)


# --- the public face: how other features reach members ----------------------------------------
# Other features never import members' models: they ask here, and use the attributes of the
# members they are handed (`id`, `display_name`, `email`, `role`, `status`, `timezone`,
# `country`, `is_coordinator`, `is_active_member`, `contact_points`).

ACTIVE = "active"


def active_members(
    ids: Iterable[str] | None = None, *, exclude: Iterable[str] = ()
) -> list[Member]:
    """Active members: all of them, or those among `ids`; without those in `exclude`."""
    query = select(Member).where(Member.status == ACTIVE)
    if ids is not None:
        wanted = set(ids)
        if not wanted:
            return []
        query = query.where(Member.id.in_(wanted))
    excluded = set(exclude)
    if excluded:
        query = query.where(Member.id.not_in(excluded))
    return list(db.session.scalars(query))


def active_member_ids() -> Select[str]:
    """A query of every active member's id, to embed in another feature's query (`in_`)."""
    return select(Member.id).where(Member.status == ACTIVE)


def coordinator_ids() -> Select[str]:
    """A query of every active coordinator's id, to embed in another feature's query."""
    return select(Member.id).where(Member.status == ACTIVE, Member.role == "coordinator")


def get_member(member_id: str | None) -> Member | None:
    """The member with this id, whatever their status (None for no id or an unknown one)."""
    return db.session.get(Member, member_id) if member_id else None


def members_by_id(ids: Iterable[str]) -> dict[str, Member]:
    """The members with these ids, whatever their status, by id."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(wanted)))}


def display_names(ids: Iterable[str]) -> dict[str, str]:
    """The display names of these members, by id, opened in one query."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(Member.id, Member.name_sealed).where(Member.id.in_(wanted)))
    return {
        member_id: envelope.open_text(sealed, envelope.context("member", member_id, "name"))
        for member_id, sealed in rows
    }


def recipient_addresses(ids: Iterable[str]) -> dict[str, str]:
    """The e-mail addresses of those of these members who are active, by id (one query).
    Handed to notify at start, so the platform never reads members itself."""
    return {m.id: m.email for m in active_members(ids)}


def organisation_choices() -> list[tuple[str, str]]:
    """Every organisation as (id, name), sorted by name (handed to notify for webhooks)."""
    rows = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)
    )
    return [(row.id, row.name) for row in rows]


def coordinators() -> list[Member]:
    """Every active coordinator."""
    return list(
        db.session.scalars(
            select(Member).where(Member.status == ACTIVE, Member.role == "coordinator")
        )
    )


def directory(
    *, query: str = "", country: str = "", expertise: str = "", limit: int = 500
) -> list[Member]:
    """Active members, filtered by country, expertise words and name; sorted by name.

    Names are sealed, so a name filter opens them here (the network has hundreds of members,
    not millions); country and expertise are filtered in the database.
    """
    statement = select(Member).where(Member.status == "active")
    if country:
        statement = statement.where(Member.country == country.strip().upper()[:2])
    for word in expertise.split()[:5]:
        statement = statement.where(Member.expertise.ilike(f"%{_escape_like(word)}%", escape="\\"))
    found = list(db.session.scalars(statement.limit(limit * 4)))
    needle = " ".join(query.split()).casefold()
    if needle:
        found = [
            m
            for m in found
            if needle in m.display_name.casefold()
            or (m.organisation is not None and needle in m.organisation.name.casefold())
            or needle in m.expertise.casefold()
        ]
    found.sort(key=lambda m: m.display_name.casefold())
    return found[:limit]


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def member_countries() -> list[str]:
    """The countries active members are in (for the directory filter)."""
    return sorted(
        c
        for c in db.session.scalars(
            select(Member.country).where(Member.status == "active").distinct()
        )
        if c
    )
