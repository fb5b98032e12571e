"""Members for tests: built through the members service, with one real Argon2id test password."""

from __future__ import annotations

import secrets
from typing import Any

from forum.extensions import db
from forum.members import services as member_services
from forum.members.models import Member, Organisation
from forum.members.passwords import hash_password

TEST_PASSWORD = "correct horse battery staple 42"
_TEST_HASH: list[str] = []


def test_password_hash() -> str:
    """One real Argon2id hash of TEST_PASSWORD, computed once for the run."""
    if not _TEST_HASH:
        _TEST_HASH.append(hash_password(TEST_PASSWORD))
    return _TEST_HASH[0]


test_password_hash.__test__ = False  # type: ignore[attr-defined]


class Members:
    """Builds members through the members service."""

    def __init__(self) -> None:
        self.count = 0

    def organisation(
        self, name: str = "Victim Support Europe", country: str = "BE"
    ) -> Organisation:
        return member_services.get_or_create_organisation(name, country=country, sector="ngo")

    def make(self, role: str = "member", *, commit: bool = True, **fields: Any) -> Member:
        self.count += 1
        n = self.count
        fields.setdefault("email", f"member{n}-{secrets.token_hex(3)}@example.org")
        fields.setdefault("name", f"Member {n}")
        fields.setdefault("country", "BE")
        fields.setdefault("timezone", "Europe/Brussels")
        if "organisation" not in fields:
            fields["organisation"] = self.organisation()
        member = member_services.create_member(
            role=role, password_hash=test_password_hash(), **fields
        )
        if commit:
            db.session.commit()
        return member

    def coordinator(self, **fields: Any) -> Member:
        return self.make("coordinator", **fields)
