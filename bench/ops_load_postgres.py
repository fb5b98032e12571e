"""bench/ops_load.py --database postgresql: the mixed load on PostgreSQL (bench/report.py runs each script without arguments).

Run: python bench/ops_load_postgres.py   (loopback only; see bench/ops_load.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.argv[1:] = "--database postgresql".split() + sys.argv[1:]

from ops_load import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
