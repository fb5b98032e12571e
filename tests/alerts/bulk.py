"""Many members at once, for scale tests and benchmarks (one flush instead of one per member).

Rows are the same as members.services.create_member makes: sealed name and address under each
member's own data key, a blind index of the address, a real Argon2id hash (computed once).
"""

from __future__ import annotations

import secrets

from forum.crypto import envelope
from forum.db import new_id, utcnow
from forum.extensions import db
from forum.members.models import Member, Organisation
from forum.members.services import email_index, get_or_create_organisation

COUNTRIES = ("BE", "FR", "DE", "NL", "IT", "ES", "SE", "PL", "US", "GB")


def bulk_members(
    count: int, password_hash: str, organisation: Organisation | None = None
) -> list[Member]:
    """Create `count` active members spread over ten countries; flushed, not committed."""
    organisation = organisation or get_or_create_organisation(
        "Bulk Org", country="BE", sector="ngo"
    )
    tag = secrets.token_hex(3)
    made: list[Member] = []
    with db.session.no_autoflush:
        for n in range(count):
            key = envelope.new_data_key("member")
            member_id = new_id()
            address = f"bulk{n}-{tag}@example.org"
            member = Member(
                id=member_id,
                dek_id=key.id,
                organisation=organisation,
                email_index=email_index(address),
                email_sealed=envelope.seal(
                    key, envelope.context("member", member_id, "email"), address
                ),
                name_sealed=envelope.seal(
                    key, envelope.context("member", member_id, "name"), f"Bulk {n}"
                ),
                country=COUNTRIES[n % len(COUNTRIES)],
                timezone="Europe/Brussels",
                role="member",
                status="active",
                password_hash=password_hash,
                password_changed_at=utcnow(),
                created_at=utcnow(),
            )
            db.session.add(member)
            made.append(member)
    db.session.flush()
    return made
