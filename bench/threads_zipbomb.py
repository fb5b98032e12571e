"""Upload type detection of a zip bomb vs a normal office document, in the same run.

The bomb is a 1 MB DOCX whose [Content_Types].xml inflates to 1 GiB (issue 9, item 9: it took
18 s and 1.5 GB to refuse); the baseline is an ordinary 1 MB DOCX (an embedded photo). Each is
checked the way an upload is (forum.threads.filetypes: detect the type, then match the name),
five times; the figures are the median time and the peak memory Python allocated while checking
(tracemalloc, the file's own bytes excluded), and their ratios bomb / normal.

Goal: the bomb is refused, with peak memory and time of the same order as a normal file
(a ratio near 1, certainly not 1,000x).
Run: python bench/threads_zipbomb.py   (a few seconds; no network, no processes)
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import figure  # noqa: E402

from forum.threads import filetypes  # noqa: E402
from tests.security.test_threads_zipbomb import bomb_docx, normal_docx  # noqa: E402

RUNS = 5


def _check(data: bytes) -> str:
    try:
        mime = filetypes.detect_type(data)
        filetypes.check_name(mime, "report.docx")
        return "accepted"
    except filetypes.FileTypeError as error:
        return f"refused: {str(error)[:60]}…"


def measure(data: bytes) -> tuple[str, float, int]:
    """Outcome, median seconds and the largest peak of Python allocations over RUNS checks."""
    times, peaks, outcome = [], [], ""
    for _ in range(RUNS):
        tracemalloc.start()
        started = time.perf_counter()
        outcome = _check(data)
        times.append(time.perf_counter() - started)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return outcome, statistics.median(times), max(peaks)


def main(build: Callable[[], bytes] = bomb_docx) -> None:
    """Print the figures for the bomb and the normal document, and their ratios."""
    bomb, normal = build(), normal_docx()
    rows = {
        "zip bomb (1 GiB inflated)": (bomb, measure(bomb)),
        "normal DOCX": (normal, measure(normal)),
    }
    print(f"{'file':28} {'size':>10} {'median time':>12} {'peak memory':>12}  outcome")
    for name, (data, (outcome, seconds, peak)) in rows.items():
        print(
            f"{name:28} {len(data) / 1e6:>8.2f}MB {seconds * 1000:>10.2f}ms "
            f"{peak / 1024:>10.1f}KB  {outcome}"
        )
    (_, (_, bomb_s, bomb_peak)), (_, (_, normal_s, normal_peak)) = rows.values()
    figure(
        "threads: zip bomb refused, peak memory",
        bomb_peak / 1024,
        "normal 1 MB DOCX accepted",
        normal_peak / 1024,
        "KB",
        goal="same order (was 1.5 GB)",
        higher_is_better=False,
    )
    figure(
        "threads: zip bomb refused, time",
        bomb_s * 1000,
        "normal 1 MB DOCX accepted",
        normal_s * 1000,
        "ms",
        goal="same order (was 18 s)",
        higher_is_better=False,
    )


if __name__ == "__main__":
    main()
