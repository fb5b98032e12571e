"""How the search index holds its documents and postings in a web process's memory, compactly.

Documents are columns, not objects: per document a thread number, an author number, the time
in microseconds, a kind flag and its post id as 16 bytes (34 bytes; no Python object per
document). Thread and author ids are held once each. An object per document with three id
strings and a datetime took about 470 bytes, and, made one by one between the decrypted posts
the build throws away, those small objects pinned the freed memory around them so that the
process could not give it back (issue 14: the index of 100,000 posts was most of a web
process's memory).

Postings are ascending doc numbers: an `array("I")` (4 bytes a posting), or, for a term found
in at least one document in DENSE_RATIO, a bitmap (one bit a document), which is smaller from
that density on and answers "is doc n in it?" in one step, so a walk probes a dense term with
its few candidates instead of reading its range. A term becomes dense when the index is built
(and stays so as it grows); both kinds only ever grow, so a walk's snapshot stays valid.
"""

from __future__ import annotations

import ctypes
import gc
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A bitmap (size/8 bytes) is smaller than an array (4 bytes a posting) from 1/32 on.
DENSE_RATIO = 32
MIN_DENSE_DOCS = 4096  # a small index keeps arrays: a bitmap saves nothing there
TITLE, POST, ODD = 0, 1, 2
_HEX_ZERO = bytes(16)
_HEX = frozenset("0123456789abcdef")


def _is_hex(text: str) -> bool:
    return all(ch in _HEX for ch in text)


# The set bits of each byte value, for walking a bitmap a byte at a time.
_BITS = tuple(tuple(i for i in range(8) if value >> i & 1) for value in range(256))


@dataclass(slots=True, frozen=True)
class Doc:
    """One document as a search result needs it (made on demand from the columns)."""

    thread_id: str
    post_id: str | None
    author_id: str
    created_at: datetime
    alive: bool


def micros(moment: datetime) -> int:
    """A UTC datetime as whole microseconds since 1970 (exact, unlike a float)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class DocTable:
    """Every indexed document by number, in columns that only grow (`alive` is cleared in
    place). The live flag is appended last, so the table's length never runs ahead of a
    document's other columns for a reader on another thread."""

    __slots__ = (
        "thread_no",
        "author_no",
        "stamps",
        "alive",
        "kinds",
        "post_keys",
        "odd_ids",
        "thread_ids",
        "author_ids",
        "_thread_numbers",
        "_author_numbers",
    )

    def __init__(self) -> None:
        self.thread_no = array("I")
        self.author_no = array("I")
        self.stamps = array("q")
        self.alive = bytearray()
        self.kinds = bytearray()  # TITLE, or POST (id in post_keys), or ODD (id in odd_ids)
        self.post_keys = bytearray()  # 16 bytes a document: a post's 32-hex-digit id
        self.odd_ids: dict[int, str] = {}  # a post id that is not 32 hex digits (none today)
        self.thread_ids: list[str] = []
        self.author_ids: list[str] = []
        self._thread_numbers: dict[str, int] = {}
        self._author_numbers: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.alive)

    @staticmethod
    def _number(value: str, numbers: dict[str, int], values: list[str]) -> int:
        found = numbers.get(value)
        if found is None:
            found = numbers[value] = len(values)
            values.append(value)
        return found

    def append(
        self, thread_id: str, post_id: str | None, author_id: str, created_at: datetime
    ) -> int:
        """Add a live document; its number."""
        number = len(self.alive)
        self.thread_no.append(self._number(thread_id, self._thread_numbers, self.thread_ids))
        self.author_no.append(self._number(author_id, self._author_numbers, self.author_ids))
        self.stamps.append(micros(created_at))
        key = _HEX_ZERO
        if post_id is None:
            kind = TITLE
        elif len(post_id) == 32 and _is_hex(post_id):
            kind, key = POST, bytes.fromhex(post_id)
        else:
            kind = ODD
            self.odd_ids[number] = post_id
        self.kinds.append(kind)
        self.post_keys += key
        self.alive.append(1)
        return number

    def post_id(self, number: int) -> str | None:
        kind = self.kinds[number]
        if kind == POST:
            return self.post_keys[number * 16 : number * 16 + 16].hex()
        return self.odd_ids[number] if kind == ODD else None

    def post_numbers(self) -> dict[str, int]:
        """Post id -> doc number for every post document (made in one go, so its keys sit
        together in memory)."""
        return {
            post_id: number
            for number in range(len(self.alive))
            if (post_id := self.post_id(number)) is not None
        }

    def thread_id(self, number: int) -> str:
        return self.thread_ids[self.thread_no[number]]

    def author_id(self, number: int) -> str:
        return self.author_ids[self.author_no[number]]

    def is_alive(self, number: int) -> bool:
        return self.alive[number] == 1

    def is_title(self, number: int) -> bool:
        return self.kinds[number] == TITLE

    def kill(self, number: int) -> None:
        self.alive[number] = 0

    def __getitem__(self, number: int) -> Doc:
        return Doc(
            self.thread_id(number),
            self.post_id(number),
            self.author_id(number),
            EPOCH + timedelta(microseconds=self.stamps[number]),
            self.alive[number] == 1,
        )


class Dense:
    """The postings of a common term: bit n is set when doc n holds the term."""

    __slots__ = ("bits", "count", "last")

    def __init__(self, numbers: array[int] | None = None) -> None:
        self.bits = bytearray()
        self.count = 0
        self.last = -1
        for number in numbers or ():
            self.append(number)

    def append(self, number: int) -> None:
        byte = number >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(byte + 1 - len(self.bits)))
        self.bits[byte] |= 1 << (number & 7)
        self.count += 1
        self.last = max(self.last, number)

    def __len__(self) -> int:
        return self.count

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int) or number < 0:
            return False
        byte = number >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (number & 7) & 1)

    def between(self, low: int, high: int) -> list[int]:
        """The doc numbers n with low <= n < high, ascending."""
        found: list[int] = []
        bits = self.bits
        for byte in range(max(low, 0) >> 3, min(len(bits), (high + 7) >> 3)):
            value = bits[byte]
            if value:
                base = byte << 3
                found.extend(base + i for i in _BITS[value])
        return [n for n in found if low <= n < high] if found else found

    def __iter__(self) -> Iterator[int]:
        return iter(self.between(0, (len(self.bits) << 3)))


Postings = array | Dense  # type: ignore[type-arg]


def densify(postings: dict[str, Postings], size: int, ratio: int | None = DENSE_RATIO) -> int:
    """Turn the terms found in at least one doc in `ratio` into bitmaps (in place: each is a
    new object, so a snapshot holding the old array still reads it); how many turned."""
    if ratio is None or size < MIN_DENSE_DOCS:
        return 0
    threshold = size // ratio
    turned = 0
    for term, found in list(postings.items()):
        if isinstance(found, array) and len(found) >= threshold:
            postings[term] = Dense(found)
            turned += 1
    return turned


def give_back_memory() -> None:
    """After a build: collect, and hand the freed heap pages back to the system (glibc's
    malloc_trim; elsewhere nothing), so the process's resident size is what the index holds,
    not what building it once took."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass
