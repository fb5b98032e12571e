"""A bystander's search while three members run heavy searches (issue 9 item 11).

Heavy: four common words, and the same four as a quoted phrase, page 50 (and page 1), over long posts
(3,000 words) that hold them, three threads in a loop (as three gthread requests of one web
process sharing its index). Bystander: a rare word and a
common word, page 1. Figures: the bystander's median and p95 under that load against the same
searches with no load (measured in this run), and the heavy search's own latency and work units.
Bounded: at most BYSTANDER_QUERIES bystander searches and SECONDS per phase; heavy threads stop
when the bystander is done. In-process, no network. Run: python bench/threads_search_load.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _threads_data  # noqa: E402
from _common import median, percentile, prepare_instance  # noqa: E402
from _threads_data import RARE, build_corpus  # noqa: E402
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.members.models import Member  # noqa: E402
from forum.threads.search import Query, index  # noqa: E402

POSTS = 3_000
WORDS_PER_POST = 3_000
BYSTANDER_QUERIES = 40
SECONDS = 60.0
HEAVY = {
    "page 50, four words": (Query(text="victims families support hotline"), 49 * 20),
    "page 50, a four-word phrase": (Query(text='"victims families support hotline"'), 49 * 20),
    "page 1, four words": (Query(text="victims families support hotline"), 0),
}


def bystander_round(app, member_id: str, rng: random.Random) -> list[float]:  # type: ignore[no-untyped-def]
    """Bystander search latencies (ms), bounded in count and time."""
    timings: list[float] = []
    deadline = time.monotonic() + SECONDS
    with app.app_context():
        member = db.session.get(Member, member_id)
        for _ in range(BYSTANDER_QUERIES):
            if time.monotonic() > deadline:
                break
            query = Query(text=f"{rng.choice(RARE)} trauma")
            begun = time.perf_counter()
            results = index().search(member, query)
            _ = [str(r.excerpt) for r in results.items]
            timings.append((time.perf_counter() - begun) * 1000)
        db.session.remove()
    return timings


def main() -> None:
    rng = random.Random(9)
    with tempfile.TemporaryDirectory(prefix="bench-search-load-") as tmp:
        app = prepare_instance(Path(tmp) / "instance", ratelimit_enabled=False).app()
        short = _threads_data.body
        _threads_data.body = lambda rng, words=WORDS_PER_POST: short(rng, words)  # long posts
        info = build_corpus(app, POSTS)
        member_id = str(info["member_id"])
        with app.app_context():
            index().catch_up()  # warm: the cold start is threads_search.py's figure
            db.session.remove()
        quiet = bystander_round(app, member_id, rng)

        stop = threading.Event()
        heavy_ms: dict[str, list[float]] = {kind: [] for kind in HEAVY}
        work: list[int] = []

        def heavy(first: int) -> None:
            with app.app_context():
                member = db.session.get(Member, member_id)
                deadline = time.monotonic() + SECONDS
                turn = first
                while not stop.is_set() and time.monotonic() < deadline and len(work) < 600:
                    kind = list(HEAVY)[turn % len(HEAVY)]
                    turn += 1
                    begun = time.perf_counter()
                    query, offset = HEAVY[kind]
                    results = index().search(member, query, offset=offset)
                    heavy_ms[kind].append((time.perf_counter() - begun) * 1000)
                    work.append(getattr(results, "work", 0))  # 0: a build without the bound
                db.session.remove()

        workers = [threading.Thread(target=heavy, args=(n,)) for n in range(3)]
        for worker in workers:
            worker.start()
        time.sleep(0.5)
        loaded = bystander_round(app, member_id, rng)
        stop.set()
        for worker in workers:
            worker.join(timeout=SECONDS)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    print(
        f"{POSTS:,} posts of {WORDS_PER_POST} words; heavy searches run: {len(work)}, work "
        f"units per heavy search: max {max(work, default=0):,}; bystander searches "
        f"{len(quiet)} quiet, {len(loaded)} under load"
    )
    for kind, timings in heavy_ms.items():
        print(
            f"heavy search, {kind}: p50 {median(timings):.1f} ms, "
            f"p95 {percentile(timings, 0.95):.1f} ms, n={len(timings)}"
        )
    figure(
        "threads: bystander search p50 under 3 heavy searches",
        median(loaded),
        "the same searches with no load",
        median(quiet),
        "ms",
        goal="< 5x",
        higher_is_better=False,
    )
    figure(
        "threads: bystander search p95 under 3 heavy searches",
        percentile(loaded, 0.95),
        "the same searches with no load (p95)",
        percentile(quiet, 0.95),
        "ms",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
