"""One web process's memory with the search index over 100,000 posts, and the first search after
a restart.

Each figure comes from a fresh child process on the same database, measured in the same run:
the baseline child starts the app the way a web worker does (forum.ops.asgi.create_asgi) but
without the index, and reads one thread (what every web process holds anyway); the index child
starts the same way, with the index building in the background as create_asgi starts it, and reports its resident set once the index is
built, after a full collection. The first search is timed in a child that restarts and is asked
to search `ARRIVAL` seconds after it starts, as a person arriving after a restart would.

Goals (issue 14): RSS < 150 MB with the index; first search after a restart < 1 s.
Run: python bench/threads_search_memory.py   (a few minutes: it writes 100,000 sealed posts)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import prepare_instance  # noqa: E402
from _threads_data import WORDS, build_corpus  # noqa: E402
from figures import figure  # noqa: E402

POSTS = int(os.environ.get("BENCH_SEARCH_POSTS", "100000"))
ARRIVAL = 30.0  # seconds after the restart the first person searches
CHILD_TIMEOUT = 600

CHILD = r"""
import gc, json, sys, time
started = time.perf_counter()
mode, config, member_id = sys.argv[1], sys.argv[2], sys.argv[3]
arrival = float(sys.argv[4])

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

from forum import create_app
from forum.extensions import db
from forum.members.models import Member
from forum.threads import search as search_module
from forum.threads.models import Thread
from forum.threads.search import Query

from forum.ops.asgi import SERVING_STARTS, create_asgi
app = create_app(config_path=config, check_keyring=False)
if mode == "baseline":
    app.extensions[SERVING_STARTS] = []  # the same start, without building the index
create_asgi(app)  # as a web worker starts: the index builds in the background
out = {}
with app.app_context():
    member = db.session.get(Member, member_id)
    db.session.scalars(db.select(Thread).limit(1)).first()
    if mode == "memory":
        index = search_module.index()
        index.wait_ready(timeout=600)
        out["build_s"] = index.build_seconds
        out["docs"], out["terms"] = index.size(), index.term_count()
    if mode == "first-search":
        time.sleep(max(0.0, arrival - (time.perf_counter() - started)))
        begun = time.perf_counter()
        search_module.search(member, Query(text=sys.argv[5]))
        out["first_search_s"] = time.perf_counter() - begun
    db.session.remove()
gc.collect()
out["rss_mb"] = rss_mb()
print(json.dumps(out))
"""


def child(mode: str, config: Path, member_id: str, word: str = "") -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(config), member_id, str(ARRIVAL), word],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-search-memory-") as tmp:
        instance = prepare_instance(Path(tmp) / "instance", ratelimit_enabled=False)
        with instance.config_path.open("a", encoding="utf-8") as config:
            config.write("[limits]\nthreads_per_hour = 0\n")  # the corpus has many threads
        app = instance.app()
        started = time.perf_counter()
        info = build_corpus(app, POSTS)
        print(f"{POSTS:,} posts written in {time.perf_counter() - started:.0f} s")
        member_id = str(info["member_id"])
        base = child("baseline", instance.config_path, member_id)
        memory = child("memory", instance.config_path, member_id)
        first = child("first-search", instance.config_path, member_id, WORDS[3])
    print(
        f"index: {memory['docs']:,.0f} documents, {memory['terms']:,.0f} terms, "
        f"built in {memory['build_s']:.1f} s in the background"
    )
    figure(
        f"threads: web process RSS with the search index ({POSTS // 1000}k posts)",
        memory["rss_mb"],
        "the same process without the index",
        base["rss_mb"],
        "MB",
        goal="< 150 MB",
        higher_is_better=False,
    )
    figure(
        f"threads: first search {ARRIVAL:.0f} s after a restart ({POSTS // 1000}k posts)",
        first["first_search_s"] * 1000,
        "the index's build time",
        memory["build_s"] * 1000,
        "ms",
        goal="< 1 s",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
