"""The stand-in hash checked when no account matches: it costs what a real check costs."""

from __future__ import annotations

from forum.members import passwords


def test_the_dummy_hash_has_the_hashers_own_parameters():
    # Same memory, time and lanes as a real hash: an absent account is not told apart by timing.
    assert not passwords.needs_rehash(passwords.DUMMY_HASH)
    real = passwords.hash_password("a real password of some length")
    assert real.split("$")[3] == passwords.DUMMY_HASH.split("$")[3]


def test_a_missing_account_is_checked_against_it_and_refused(monkeypatch):
    checked = []
    real = passwords._hasher

    class Counting:
        def verify(self, stored, password):  # type: ignore[no-untyped-def]
            checked.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    # Even the stand-in's own phrase does not open an account that does not exist.
    assert passwords.verify_password("", "not a real password, only spends time") is False
    assert checked == [passwords.DUMMY_HASH]
