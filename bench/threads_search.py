"""Search over 100,000 posts: the cold start (building a process's in-memory index from the
decrypted posts, as after a restart), then median and 95th-percentile latency once warm, for a
mix of queries (a common word, a rare word, two words, a phrase, a tag, an author filter), as a
member who may read all but the TLP:RED threads they are not on.

Goal (issue 3): warm p95 under 100 ms. Baseline in the same run: one page of a thread (20 posts),
so the ratio says what a search costs in thread-page views.
Run: python bench/threads_search.py   (about 1-2 minutes; no network; temporary files removed)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, percentile, prepare_instance  # noqa: E402
from _threads_data import RARE, WORDS, build_corpus  # noqa: E402
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.members.models import Member  # noqa: E402
from forum.threads import content, reading  # noqa: E402
from forum.threads.models import Thread  # noqa: E402
from forum.threads.search import Query, SearchIndex  # noqa: E402

POSTS = 100_000
QUERIES = 300
SECONDS = 40.0


def queries(member_id: str, rng: random.Random) -> list[Query]:
    """A mix of what members search for."""
    mix = [
        lambda: Query(text=rng.choice(WORDS)),
        lambda: Query(text=rng.choice(RARE)),
        lambda: Query(text=f"{rng.choice(WORDS)} {rng.choice(WORDS)}"),
        lambda: Query(text=f'"{rng.choice(WORDS)} {rng.choice(WORDS)}"'),
        lambda: Query(tag=rng.choice(WORDS)),
        lambda: Query(text=rng.choice(WORDS), author_id=member_id),
    ]
    return [rng.choice(mix)() for _ in range(QUERIES)]


def main() -> None:
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="bench-threads-search-") as tmp:
        instance = prepare_instance(Path(tmp) / "instance", ratelimit_enabled=False)
        app = instance.app()
        started = time.perf_counter()
        info = build_corpus(app, POSTS)
        print(
            f"{POSTS:,} posts in {info['threads']} threads written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        with app.app_context():
            member = db.session.get(Member, info["member_id"])
            index = SearchIndex()
            started = time.perf_counter()
            index.catch_up()  # the first search after a restart builds the index
            cold = time.perf_counter() - started
            docs, words = len(index.docs), len(index.postings)
            timings: dict[str, list[float]] = {}
            deadline = time.monotonic() + SECONDS
            for query in queries(member.id, rng):
                if time.monotonic() > deadline:
                    break
                kind = (
                    "phrase"
                    if '"' in query.text
                    else "tag"
                    if query.tag
                    else "author"
                    if query.author_id
                    else f"{len(query.words)} word(s)"
                )
                begun = time.perf_counter()
                results = index.search(member, query)
                _ = [r.excerpt for r in results.items]
                timings.setdefault(kind, []).append((time.perf_counter() - begun) * 1000)
            thread = db.session.get(Thread, info["big_thread_id"])
            page_ms = []
            for _ in range(50):
                begun = time.perf_counter()
                posts = reading.posts_page(member, thread, 100)
                _ = [content.post_html(p) for p in posts]
                page_ms.append((time.perf_counter() - begun) * 1000)
            db.session.remove()
            db.engine.dispose()
    every = [t for values in timings.values() for t in values]
    print(
        f"\nindex: {docs:,} documents (posts and titles), {words:,} distinct words; "
        f"cold start {cold:.1f} s"
    )
    print(f"{'query kind':16} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    for kind, values in sorted(timings.items()):
        print(f"{kind:16} {len(values):4d} {median(values):8.2f} {percentile(values, 0.95):8.2f}")
    print(f"{'all':16} {len(every):4d} {median(every):8.2f} {percentile(every, 0.95):8.2f}\n")
    baseline = median(page_ms)
    figure(
        "threads: search p50 warm (100k posts)",
        median(every),
        "opening one thread page of 20 posts",
        baseline,
        "ms",
        goal="p95 < 100 ms",
        higher_is_better=False,
    )
    figure(
        "threads: search p95 warm (100k posts)",
        percentile(every, 0.95),
        "opening one thread page of 20 posts",
        baseline,
        "ms",
        goal="< 100 ms",
        higher_is_better=False,
    )
    figure(
        "threads: search cold start (100k posts)",
        cold * 1000,
        "opening one thread page of 20 posts",
        baseline,
        "ms",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
