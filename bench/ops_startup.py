"""Start-up and the first fan-out of a fresh process (issue 14: start-up items).

Figures (each against a baseline measured in the same run, interleaved, ROUNDS fresh processes
each, medians):
1. a fresh process imports the Exchange and builds its app: CPU seconds and peak RSS, vs the
   same with the Argon2id stand-in hash computed at import as it used to be (emulated: one
   `PasswordHasher().hash()` after the import);
2. the first urgent raise to 1,000 members in a fresh process, in-app rows committed: time, and
   the time the garbage collector spent in it, with the heap settled after start-up
   (`forum.ops.heap.settle_heap`: collect + gc.freeze, what the serving entry points do) vs not.

Bounded: ROUNDS x 4 child processes; everything local (SQLite in a temporary folder).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, prepare_instance  # noqa: E402
from bench.figures import figure  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from tests.alerts.bulk import bulk_members  # noqa: E402

ROUNDS = 5

STARTUP = """
import json, resource, sys, time
started = time.process_time()
from forum import create_app
app = create_app(config_path=sys.argv[1])
if sys.argv[2] == "old":
    from argon2 import PasswordHasher
    PasswordHasher().hash("not a real password, only spends time")
cpu = time.process_time() - started
print(json.dumps({"cpu": cpu, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FIRST_RAISE = """
import gc, json, sys, time
from datetime import timedelta
from forum import create_app
from forum.alerts import services
from forum.db import utcnow
from forum.extensions import db
from forum.members.models import Member
from forum.ops.heap import settle_heap
app = create_app(config_path=sys.argv[1])
with app.app_context():
    raiser = db.session.get(Member, sys.argv[3])
    db.session.commit()
if sys.argv[2] == "settled":
    settle_heap()
spent = [0.0]
began = [0.0]
def watch(phase, info):
    if phase == "start":
        began[0] = time.perf_counter()
    else:
        spent[0] += time.perf_counter() - began[0]
gc.callbacks.append(watch)
with app.app_context():
    raiser = db.session.get(Member, sys.argv[3])
    started = time.perf_counter()
    services.raise_alert(raiser, kind="attack", title="Start-up drill", city="Ghent",
                         country="BE", occurred_at=utcnow() - timedelta(minutes=5),
                         needs="Nothing: a benchmark", severity="critical")
    db.session.commit()
    elapsed = time.perf_counter() - started
print(json.dumps({"raise_ms": elapsed * 1000, "gc_ms": spent[0] * 1000}))
"""


def _child(script: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="startup-"))
    instance = prepare_instance(folder, ratelimit_enabled=False)
    with instance.config_path.open("a", encoding="utf-8") as config:
        config.write("[limits]\nalerts_per_hour = 0\n")
    app = instance.app()
    with app.app_context():
        password_hash = hash_password("bench password 0123456789")
        raiser = bulk_members(1, password_hash)[0]
        bulk_members(1_000, password_hash)
        db.session.commit()
        raiser_id = raiser.id
        db.engine.dispose()
    config = str(instance.config_path)
    runs: dict[str, list[dict[str, float]]] = {"now": [], "old": [], "settled": [], "plain": []}
    for _ in range(ROUNDS):  # interleaved: each round runs every variant once
        runs["now"].append(_child(STARTUP, config, "now"))
        runs["old"].append(_child(STARTUP, config, "old"))
        runs["settled"].append(_child(FIRST_RAISE, config, "settled", raiser_id))
        runs["plain"].append(_child(FIRST_RAISE, config, "plain", raiser_id))

    def median(kind: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[kind])

    figure(
        "start-up: import + create_app, CPU",
        median("now", "cpu"),
        "the same with the stand-in hash computed at import (before)",
        median("old", "cpu"),
        "s",
        higher_is_better=False,
    )
    figure(
        "start-up: import + create_app, peak RSS",
        median("now", "rss_mb"),
        "the same with the stand-in hash computed at import (before)",
        median("old", "rss_mb"),
        "MB",
        higher_is_better=False,
    )
    figure(
        "first urgent raise to 1,000 in a fresh process, in-app committed (heap settled)",
        median("settled", "raise_ms"),
        "the same without settle_heap",
        median("plain", "raise_ms"),
        "ms",
        goal="< 100 ms warm (issue 14)",
        higher_is_better=False,
    )
    figure(
        "first urgent raise: time in the garbage collector (heap settled)",
        median("settled", "gc_ms"),
        "the same without settle_heap",
        median("plain", "gc_ms"),
        "ms",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
