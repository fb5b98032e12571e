"""The compact index (issue 14): documents in columns and common terms as bitmaps answer every
query exactly as the plain arrays do — same threads, same order, same counts, same excerpts —
and a walk over bitmaps stays within its work bound."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from forum.db import utcnow
from forum.extensions import db
from forum.threads import search_store, services
from forum.threads.search import Query, SearchIndex
from forum.threads.search_store import Dense, DocTable

WORDS = (
    "victims families hotline trauma interpreters shelter police hospital lessons network".split()
)


def _corpus(members, threads, posts: int = 600) -> dict[str, object]:
    rng = random.Random(3)
    authors = [members.make() for _ in range(3)]
    start = utcnow() - timedelta(days=30)
    for n in range(6):
        thread = threads.start(authors[n % 3], title=f"Thread {WORDS[n]} {n}", body="opening")
        bodies = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
            + (f" rareword{n}{k}" if k % 50 == 0 else "")
            for k in range(posts // 6)
        ]
        services.bulk_add_posts(
            thread, authors, bodies, start_at=start + timedelta(days=n, minutes=n)
        )
    db.session.commit()
    return {"authors": authors, "start": start}


def _answer(index: SearchIndex, member, query: Query, **page):  # type: ignore[no-untyped-def]
    results = index.search(member, query, **page)
    return (
        [(r.title, r.post_id, str(r.excerpt)) for r in results.items],
        results.total,
        results.is_lower_bound,
    )


def test_bitmaps_answer_every_query_as_the_arrays_do(members, threads, monkeypatch):
    world = _corpus(members, threads)
    reader = members.make()
    plain = SearchIndex()
    plain.dense_ratio = None
    plain.catch_up()
    monkeypatch.setattr(search_store, "MIN_DENSE_DOCS", 0)
    compact = SearchIndex()
    compact.dense_ratio = 4
    compact.catch_up()
    dense_terms = [t for t, p in compact.postings.items() if isinstance(p, Dense)]
    assert set(WORDS) <= set(dense_terms), "every common word became a bitmap"
    assert not any(isinstance(p, Dense) for p in plain.postings.values())
    author = world["authors"][1]  # type: ignore[index]
    day = world["start"] + timedelta(days=2)  # type: ignore[operator]
    queries = [
        Query(text="victims"),
        Query(text="victims families"),
        Query(text="hotline rareword30"),
        Query(text='"trauma interpreters"'),
        Query(text='"police hospital lessons"'),
        Query(text="interp"),  # a prefix over a dense word
        Query(text="rarew"),  # a prefix over many rare words
        Query(text="shelter", author_id=author.id),
        Query(text="network", date_from=day, date_to=day + timedelta(days=2)),
        Query(text="nothinglikethis"),
        Query(tag="victims"),
    ]
    found = 0
    for query in queries:
        for page in ({}, {"offset": 2, "limit": 2}):
            answer = _answer(compact, reader, query, **page)
            assert answer == _answer(plain, reader, query, **page), query
            found += answer[1] > 0
    assert found >= 16, "most queries find something: the comparison is not of empty pages"


def test_a_walk_over_bitmaps_stays_within_its_work_bound(members, threads, monkeypatch):
    _corpus(members, threads, posts=1200)
    monkeypatch.setattr(search_store, "MIN_DENSE_DOCS", 0)
    index = SearchIndex()
    index.dense_ratio = 4
    index.catch_up()
    index.work_limit = 300
    results = index.search(members.make(), Query(text=" ".join(WORDS[:4])), offset=200)
    assert results.work <= 300 + 4 * 4096  # the window in progress may finish
    assert results.is_lower_bound


def test_the_docs_table_keeps_each_column_and_its_order():
    table = DocTable()
    moment = utcnow().replace(microsecond=123456)
    first = table.append("t1", "p1", "a1", moment)
    second = table.append("t1", None, "a2", moment + timedelta(microseconds=1))
    assert (first, second, len(table)) == (0, 1, 2)
    assert table[0].created_at == moment and table[1].created_at > moment
    assert table.thread_ids == ["t1"] and table.thread_id(1) == "t1"
    assert table.is_title(1) and not table.is_title(0)
    table.kill(0)
    assert not table[0].alive and table[1].alive


@pytest.mark.parametrize("numbers", [[0], [7, 8, 9, 63, 64, 1000], list(range(0, 5000, 3))])
def test_a_bitmap_holds_exactly_its_numbers(numbers):
    from array import array

    dense = Dense(array("I", numbers))
    assert len(dense) == len(numbers) and list(dense) == numbers
    assert all(n in dense for n in numbers)
    assert not any(n in dense for n in set(range(max(numbers) + 9)) - set(numbers))
    assert dense.between(5, 64) == [n for n in numbers if 5 <= n < 64]
    assert -1 not in dense and "7" not in dense
