"""bench/ops_load.py --think 1: the mixed load with members who read about a second between clicks (bench/report.py runs each script without arguments).

Run: python bench/ops_load_reading.py   (loopback only; see bench/ops_load.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.argv[1:] = "--think 1".split() + sys.argv[1:]

from ops_load import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
