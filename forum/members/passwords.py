"""Password rules (ASVS 5.0 L2: length, a list of common and breached passwords shipped offline,
a strength estimate) and Argon2id hashing."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from forum.lazytext import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHasher()  # Argon2id with the library's RFC 9106 low-memory profile

# A short list of the most common passwords of 12+ characters; anything on it is refused.
COMMON = {
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789abc",
    "qwertyuiopas",
    "qwertyuiop12",
    "qwertyuiop123",
    "password1234",
    "password12345",
    "passwordpassword",
    "iloveyou1234",
    "aaaaaaaaaaaa",
    "111111111111",
    "000000000000",
    "abcdefghijkl",
    "abc123abc123",
    "letmein12345",
    "welcome12345",
    "administrator",
    "changeme1234",
    "qwerty123456",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "trustno1trustno1",
    "superman1234",
    "football1234",
    "baseball1234",
    "monkey123456",
    "dragon123456",
    "sunshine1234",
    "princess1234",
    "passw0rd1234",
    "p@ssw0rd1234",
    "p@ssword1234",
    "correcthorsebatterystaple",
    "invictm12345",
    "invictmexchange",
    "exchange1234",
}


# zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable" against an
# offline attack on a slow hash (about 10^10 guesses), as Dropbox and Discourse require.
MIN_SCORE = 3
TOO_COMMON = _l("This password is too common; choose one that is harder to guess.")
TOO_WEAK = _l("This password would be easy to guess; add a few unrelated words, or make it longer.")


@cache
def _breached() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords of the breach corpora it was built from.
    # Imported when a password is first checked: its lists are 12 MB of a process (issue 14).
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """A plain sentence saying why a new password is refused, or None when it is acceptable.

    `user_inputs` (the member's name and address) count as easy to guess.
    """
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)s characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(n)s characters.", n=MAX_LENGTH)
    folded = password.casefold()
    if folded in COMMON or folded in _breached() or len(set(folded)) < 4:
        return str(TOO_COMMON)
    words = [w for text in user_inputs for w in text.replace("@", " ").replace(".", " ").split()]
    words += ["".join(text.split()) for text in user_inputs]  # "noorhaddad" as well as "noor"
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[*words, "invictm", "exchange"])
    if result["score"] < MIN_SCORE:
        return str(TOO_WEAK)
    return None


def hash_password(password: str) -> str:
    """An Argon2id hash of the password."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when the password matches; never raises for a wrong one."""
    if not stored_hash:
        # Spend the same time as a real check, so absent accounts are not told apart by timing.
        try:
            _hasher.verify(DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters."""
    return _hasher.check_needs_rehash(stored_hash)


# A fixed Argon2id hash with the hasher's parameters, checked against when no account matches so
# the answer takes as long as a real check. Written out rather than computed at import: hashing
# costs every process 64 MiB and a third of a CPU second at start. tests/unit/test_passwords.py
# fails if the hasher's parameters ever move away from these.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$9KN1kt0C7dnF7UPSV1TdXA$o5rSUkpe8+ZTmo7PNnHH89J16wpWtrKLH98x2vfVGDM"
