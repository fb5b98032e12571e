"""Issue 9 item 11: the work of one search is bounded, and a long search holds no lock that
would make other members' searches wait."""

from __future__ import annotations

import threading
from array import array
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.threads import policy, services
from forum.threads.search import Query, SearchIndex, index
from tests.support.threads import Threads

COMMON = "families hotline interpreters coordination"


@pytest.fixture
def threads(app: Flask) -> Threads:
    """Threads built through the service, as in tests/threads."""
    return Threads()


class CountingPostings(array):  # type: ignore[type-arg]
    """A posting list that counts every entry read from it (iteration, indexing, slicing)."""

    visited = 0

    def __iter__(self) -> Any:
        for value in super().__iter__():
            CountingPostings.visited += 1
            yield value

    def __reversed__(self) -> Any:
        for position in range(len(self) - 1, -1, -1):
            CountingPostings.visited += 1
            yield super().__getitem__(position)

    def __getitem__(self, key: Any) -> Any:
        found = super().__getitem__(key)
        CountingPostings.visited += len(found) if isinstance(key, slice) else 1
        return found


def _corpus(author: Member, threads_: Any, per_thread: int) -> None:
    """Four threads whose many long posts all hold the four common words, interleaved in time."""
    start = utcnow() - timedelta(days=1)
    body = f"{COMMON} " + "after the attack we kept the lines open all night " * 12
    for n in range(4):
        thread = threads_.start(author, title=f"Thread {n}", body="opening post")
        services.bulk_add_posts(
            thread, [author], [body] * per_thread, start_at=start + timedelta(milliseconds=250 * n)
        )
        db.session.commit()


def test_a_heavy_query_reads_a_bounded_part_of_the_postings(members, threads) -> None:
    author, reader = members.make(), members.make()
    _corpus(author, threads, per_thread=1000)
    search_index = SearchIndex()
    search_index.catch_up()
    total = 0
    for word in COMMON.split():
        search_index.postings[word] = CountingPostings("I", search_index.postings[word])
        total += len(search_index.postings[word])
    search_index.work_limit = 300
    CountingPostings.visited = 0
    page_50 = search_index.search(reader, Query(text=COMMON), offset=49 * 20)
    assert CountingPostings.visited < total // 4, (CountingPostings.visited, total)
    assert page_50.items == [] and page_50.is_lower_bound
    CountingPostings.visited = 0
    first = search_index.search(reader, Query(text=COMMON))
    assert CountingPostings.visited < total // 4
    assert len(first.items) == 4 and first.is_lower_bound  # stopped early, still a full answer


def test_a_long_search_does_not_hold_other_members_searches(app: Flask, members, threads) -> None:
    heavy, bystander, author = members.make(), members.make(), members.make()
    threads.start(author, title="Shared", body=f"{COMMON} a post everyone may read")
    heavy_id, bystander_id = heavy.id, bystander.id
    db.session.commit()
    index().catch_up()
    held, release = threading.Event(), threading.Event()
    real_can_read = policy.can_read
    outcome: dict[str, Any] = {}

    def slow_can_read(member: Member, thread: Any) -> bool:
        if member.id == heavy_id:  # the heavy search pauses while it builds its page
            held.set()
            release.wait(timeout=20)
        return real_can_read(member, thread)

    def run(name: str, member_id: str) -> None:
        with app.app_context():
            member = db.session.get(Member, member_id)
            outcome[name] = index().search(member, Query(text="families")).total
            db.session.remove()

    policy.can_read = slow_can_read  # type: ignore[assignment]
    try:
        first = threading.Thread(target=run, args=("heavy", heavy_id))
        first.start()
        assert held.wait(timeout=20)
        second = threading.Thread(target=run, args=("bystander", bystander_id))
        second.start()
        second.join(timeout=10)
        finished_while_held = not second.is_alive() and not release.is_set()
    finally:
        release.set()
        policy.can_read = real_can_read  # type: ignore[assignment]
        first.join(timeout=20)
    assert finished_while_held, "the bystander's search waited for the heavy one"
    assert outcome == {"heavy": 1, "bystander": 1}
