"""How one query walks the in-memory index, with its work bounded.

A query is at most MAX_TERMS terms; a term of three letters or more also stands for the words
that begin with it (at most MAX_EXPANSIONS of them, in alphabetical order, the word itself first).
The walk goes newest first along the cheapest term's postings and checks each candidate in the
other terms' postings by binary search (postings are ascending doc numbers). Every posting read
and every probe is one unit of work; a query stops after WORK_LIMIT units and says its count is
a lower bound. So a query's cost does not grow with the corpus, the page asked for or the words
given, and a page past what the budget reaches is empty ("refine your search").

The walk reads a snapshot (the docs list and its length at the start, the postings and threads
maps the index had then): writers append to postings and docs and replace the threads map, so
the walk needs no lock.
"""

from __future__ import annotations

import heapq
import time
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_PREFIX = 3
MAX_TERMS = 8
MAX_EXPANSIONS = 30
WORK_LIMIT = 20_000
PER_THREAD = 4
PAUSE_EVERY = 2_000


@dataclass
class Budget:
    """Units of work a query may still spend (postings read plus membership probes)."""

    limit: int = WORK_LIMIT
    used: int = 0
    next_pause: int = PAUSE_EVERY

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit

    def pause_now_and_then(self) -> None:
        """Let other threads of the process run (a search is pure Python: it holds the GIL)."""
        if self.used >= self.next_pause:
            self.next_pause = self.used + PAUSE_EVERY
            time.sleep(0)


@dataclass
class Term:
    """One query term: the postings of the words it stands for (any of them matches)."""

    word: str
    lists: list[Sequence[int]] = field(default_factory=list)

    @property
    def cost(self) -> int:
        return sum(len(p) for p in self.lists)


def expand(word: str, postings: dict[str, array[int]], vocabulary: Sequence[str],
           *, prefix: bool) -> Term:  # fmt: skip
    """The term for a word: the word itself, and with `prefix` the words that begin with it."""
    if not prefix or len(word) < MIN_PREFIX or " " in word:
        found = postings.get(word)
        return Term(word, [found] if found is not None else [])
    lists: list[Sequence[int]] = []
    start = bisect_left(vocabulary, word)
    for candidate in vocabulary[start : start + MAX_EXPANSIONS]:
        if not candidate.startswith(word):
            break
        found = postings.get(candidate)
        if found is not None:
            lists.append(found)
    lists.sort(key=len, reverse=True)  # a probe tries the commonest word first
    return Term(word, lists)


def _descending(posting: Sequence[int], size: int) -> Iterator[int]:
    """A posting's doc numbers below `size`, newest first."""
    index = bisect_left(posting, size) - 1
    while index >= 0:
        yield posting[index]
        index -= 1


def newest_first(term: Term, size: int, budget: Budget) -> Iterator[int]:
    """The docs of a term, newest first, each once, until the budget is spent."""
    streams = [_descending(p, size) for p in term.lists]
    merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, reverse=True)
    last = -1
    for number in merged:
        budget.used += 1
        budget.pause_now_and_then()
        if number != last:
            yield number
            last = number
        if budget.exhausted:
            return


def contains(term: Term, number: int, budget: Budget) -> bool:
    """Whether a term's postings hold the doc (one unit of work per posting list probed)."""
    for posting in term.lists:
        budget.used += 1
        index = bisect_left(posting, number)
        if index < len(posting) and posting[index] == number:
            return True
    return False


@dataclass
class Walk:
    """What a walk found: per thread, newest first, the matching docs (a few per thread)."""

    threads: dict[str, list[int]]
    complete: bool
    work: int


def collect(terms: list[Term], docs: Sequence[Any], size: int, accept: Callable[[Any], bool],
            *, want_threads: int, budget: Budget) -> Walk:  # fmt: skip
    """Walk the terms' common docs newest first, grouped by thread, within the budget."""
    found: dict[str, list[int]] = {}
    if any(not t.lists for t in terms):
        return Walk(found, True, budget.used)
    ordered = sorted(terms, key=lambda t: t.cost)
    driver, others = ordered[0], ordered[1:]
    complete = True
    for number in newest_first(driver, size, budget):
        doc = docs[number]
        if not accept(doc) or not all(contains(t, number, budget) for t in others):
            if budget.exhausted:
                complete = False
                break
            continue
        entry = found.get(doc.thread_id)
        if entry is None:
            if len(found) >= want_threads:
                complete = False
                break
            found[doc.thread_id] = [number]
        elif len(entry) < PER_THREAD:
            entry.append(number)
        if budget.exhausted:
            complete = False
            break
    return Walk(found, complete, budget.used)


def collect_titles(title_docs: list[int], docs: Sequence[Any], accept: Callable[[Any], bool],
                   *, want_threads: int, budget: Budget) -> Walk:  # fmt: skip
    """No words: the threads whose title docs pass the filters, newest first, within the budget."""
    found: dict[str, list[int]] = {}
    complete = True
    for number in sorted(title_docs, reverse=True):
        budget.used += 1
        doc = docs[number]
        if accept(doc):
            if len(found) >= want_threads:
                complete = False
                break
            found.setdefault(doc.thread_id, [number])
        if budget.exhausted:
            complete = False
            break
    return Walk(found, complete, budget.used)
