"""bench/ops_load.py --serve embedded --think 1: the mixed load of members who read about a
second between clicks, against the Exchange as `exchange serve` runs it (one ASGI worker, its
page threads, the live channel on its loop). bench/report.py runs each script without arguments.

Run: python bench/ops_load_embedded.py   (loopback only; see bench/ops_load.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.argv[1:] = ["--serve", "embedded", "--think", "1", *sys.argv[1:]]

from ops_load import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
