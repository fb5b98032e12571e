"""Thread list and thread pages at 1,000 and at 100,000 posts: the larger should be within 1.5x
of the smaller (pages are index range scans on (thread_id, seq); lists page by keyset).

Each corpus is written through services.bulk_add_posts (sealing real): half the posts in one
long thread, the rest in threads of about 250 posts; every tenth thread is TLP:RED. Pages are
requested in-process through the Flask test client, signed in with a real server session,
sequentially (one member clicking), median of a bounded number of requests.
Run: python bench/threads_scale.py   (about 1-2 minutes; no network; temporary files removed)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepare_instance, session_cookie  # noqa: E402
from _threads_data import build_corpus  # noqa: E402
from figures import figure  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.members.models import Member  # noqa: E402

SIZES = (1_000, 100_000)
REQUESTS = 60
SECONDS_PER_PAGE = 8.0


def page_latency_ms(client, path: str) -> float:  # type: ignore[no-untyped-def]
    """Median latency of a page over a bounded number of sequential requests."""
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code}")
    found: list[float] = []
    deadline = time.monotonic() + SECONDS_PER_PAGE
    while len(found) < REQUESTS and time.monotonic() < deadline:
        started = time.perf_counter()
        client.get(path)
        found.append((time.perf_counter() - started) * 1000)
    return statistics.median(found)


def measure(size: int) -> dict[str, float]:
    """Build a corpus of `size` posts and time its pages."""
    with tempfile.TemporaryDirectory(prefix=f"bench-threads-{size}-") as tmp:
        instance = prepare_instance(Path(tmp) / "instance", ratelimit_enabled=False)
        app = instance.app()
        started = time.perf_counter()
        info = build_corpus(app, size)
        print(
            f"{size:,} posts in {info['threads']} threads written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        with app.app_context():
            cookie = session_cookie(app, db.session.get(Member, info["member_id"]))
        client = app.test_client()
        name, value = cookie.split("=", 1)
        client.set_cookie(name, value, domain="localhost")
        big = info["big_thread_id"]
        pages = (size // 2 + 19) // 20
        paths = {
            "thread list": "/threads",
            "thread list, page 3": None,
            "long thread, first page": f"/threads/{big}?page=1",
            "long thread, middle page": f"/threads/{big}?page={pages // 2}",
            "long thread, last page": f"/threads/{big}?page={pages}",
        }
        listing = client.get("/threads").get_data(as_text=True)
        cursor = listing.split('href="?after=')[1].split('"')[0] if "?after=" in listing else ""
        second = client.get(f"/threads?after={cursor}").get_data(as_text=True)
        if "?after=" in second:
            paths["thread list, page 3"] = "/threads?after=" + second.split('href="?after=')[
                1
            ].split('"')[0].replace("&amp;", "&")
        results = {name: page_latency_ms(client, path) for name, path in paths.items() if path}
        with app.app_context():
            db.engine.dispose()
    return results


def main() -> None:
    small, large = (measure(size) for size in SIZES)
    print(f"\n{'page':28} {'1,000 posts':>12} {'100,000 posts':>14} {'ratio':>7}")
    for name in small:
        if name in large:
            print(
                f"{name:28} {small[name]:10.2f}ms {large[name]:12.2f}ms "
                f"{large[name] / small[name]:6.2f}x"
            )
    print()
    for name in small:
        if name in large:
            figure(
                f"threads: {name} at 100,000 posts",
                large[name],
                "same at 1,000 posts",
                small[name],
                "ms",
                goal="<= 1.5x",
                higher_is_better=False,
            )


if __name__ == "__main__":
    main()
