"""How one query walks the in-memory index, with its work bounded.

A query is at most MAX_TERMS terms; a term of three letters or more also stands for the words
that begin with it (at most MAX_EXPANSIONS of them, in alphabetical order, the word itself first).
The walk takes windows of the cheapest term's newest postings and intersects each with the
other terms' postings in the same range of doc numbers (slices and set operations, in C;
postings are ascending doc numbers). Every posting read and every candidate checked is one unit
of work; a query stops after WORK_LIMIT units and says its count is a lower bound. So a query's
cost does not grow with the corpus, the page asked for or the words given, and a page past what
the budget reaches is empty ("refine your search").

A dense term (a bitmap, search_store.Dense) is not read by range: the candidates of the
cheaper terms are looked up in it, one unit each. When every term is dense, the driver's window
is read from its bits.

The walk reads a snapshot (the docs table and its length at the start, the postings and threads
maps the index had then): writers append to postings and docs and replace the threads map, so
the walk needs no lock.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from forum.threads.search_store import Dense, DocTable, Postings

MIN_PREFIX = 3
MAX_TERMS = 8
MAX_EXPANSIONS = 30
WORK_LIMIT = 100_000
PER_THREAD = 4
PAUSE_EVERY = 20_000
WINDOW = 4_096
MIN_WINDOW = 64


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
            time.sleep(0)  # a window at a time


@dataclass
class Term:
    """One query term: the postings of the words it stands for (any of them matches)."""

    word: str
    lists: list[Postings] = field(default_factory=list)

    @property
    def cost(self) -> int:
        return sum(len(p) for p in self.lists)

    @property
    def is_dense(self) -> bool:
        return any(isinstance(p, Dense) for p in self.lists)


def expand(
    word: str, postings: dict[str, Postings], vocabulary: Sequence[str], *, prefix: bool
) -> Term:
    """The term for a word: the word itself, and with `prefix` the words that begin with it."""
    if not prefix or len(word) < MIN_PREFIX or " " in word:
        found = postings.get(word)
        return Term(word, [found] if found is not None else [])
    lists: list[Postings] = []
    start = bisect_left(vocabulary, word)
    for candidate in vocabulary[start : start + MAX_EXPANSIONS]:
        if not candidate.startswith(word):
            break
        found = postings.get(candidate)
        if found is not None:
            lists.append(found)
    lists.sort(key=len, reverse=True)  # a probe tries the commonest word first
    return Term(word, lists)


def _window_start(term: Term, high: int, span: int, size: int) -> int:
    """The doc number where a window of about `span` of the term's newest docs below `high`
    begins (its densest word decides; a bitmap's by its density)."""
    posting = term.lists[0]
    if isinstance(posting, Dense):
        stride = max(1, size // max(len(posting), 1))
        return max(0, high - span * stride)
    end = bisect_left(posting, high)
    return posting[end - span] if end > span else 0


def _in_range(term: Term, low: int, high: int, budget: Budget) -> set[int]:
    """The term's docs with low <= number < high (slices and a set union, in C)."""
    docs: set[int] = set()
    for posting in term.lists:
        if isinstance(posting, Dense):
            part: Sequence[int] = posting.between(low, high)
            budget.used += len(part) + (high - low) // 64 + 2
        else:
            part = posting[bisect_left(posting, low) : bisect_left(posting, high)]
            budget.used += len(part) + 2
        docs.update(part)
    return docs


def _keep(term: Term, candidates: set[int], low: int, high: int, budget: Budget) -> set[int]:
    """The candidates that hold the term: looked up in its bitmaps (a unit each), and read
    from its arrays' range."""
    sparse = [p for p in term.lists if not isinstance(p, Dense)]
    dense = [p for p in term.lists if isinstance(p, Dense)]
    kept: set[int] = set()
    if sparse:
        kept = candidates & _in_range(Term(term.word, sparse), low, high, budget)  # type: ignore[arg-type]
    if dense:
        rest = candidates - kept
        budget.used += len(rest) * len(dense)
        kept |= {n for n in rest if any(n in d for d in dense)}
    return kept


@dataclass
class Walk:
    """What a walk found: per thread, newest first, the matching docs (a few per thread)."""

    threads: dict[str, list[int]]
    complete: bool
    work: int


def collect(
    terms: list[Term],
    docs: DocTable,
    size: int,
    accept: Callable[[int], bool],
    *,
    want_threads: int,
    budget: Budget,
) -> Walk:
    """The docs holding every term, newest first, grouped by thread, within the budget.

    Windows of the cheapest term's newest docs, each intersected with the other terms' docs in
    the same range of numbers; every posting read and every candidate checked is a unit.
    """
    found: dict[str, list[int]] = {}
    if any(not t.lists for t in terms):
        return Walk(found, True, budget.used)
    # The cheapest term drives; a sparse one before any dense one (a bitmap is probed).
    ordered = sorted(terms, key=lambda t: (t.is_dense, t.cost))
    driver, others = ordered[0], ordered[1:]
    high = size
    while high > 0:
        span = max(MIN_WINDOW, min(WINDOW, (budget.limit - budget.used) // len(terms)))
        low = _window_start(driver, high, span, size)
        candidates = _in_range(driver, low, high, budget)
        for term in others:
            if not candidates:
                break
            candidates = _keep(term, candidates, low, high, budget)
        for number in sorted(candidates, reverse=True):
            budget.used += 1
            thread_id = docs.thread_id(number)
            entry = found.get(thread_id)
            if (entry is not None and len(entry) >= PER_THREAD) or not accept(number):
                continue  # a thread already has enough docs for its excerpt
            if entry is None:
                if len(found) >= want_threads:
                    return Walk(found, False, budget.used)
                found[thread_id] = [number]
            elif len(entry) < PER_THREAD:
                entry.append(number)
        high = low
        if budget.exhausted and high > 0:
            return Walk(found, False, budget.used)
        budget.pause_now_and_then()
    return Walk(found, True, budget.used)


def collect_titles(
    title_docs: list[int],
    docs: DocTable,
    accept: Callable[[int], bool],
    *,
    want_threads: int,
    budget: Budget,
) -> Walk:
    """No words: the threads whose title docs pass the filters, newest first, within the budget."""
    found: dict[str, list[int]] = {}
    complete = True
    for number in sorted(title_docs, reverse=True):
        budget.used += 1
        if accept(number):
            if len(found) >= want_threads:
                complete = False
                break
            found.setdefault(docs.thread_id(number), [number])
        if budget.exhausted:
            complete = False
            break
    return Walk(found, complete, budget.used)
