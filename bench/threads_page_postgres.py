"""bench/threads_page.py --database postgresql: the thread and start pages on PostgreSQL (bench/report.py runs each script without arguments).

Run: python bench/threads_page_postgres.py   (loopback only; see bench/threads_page.py)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.argv[1:] = "--database postgresql".split() + sys.argv[1:]

from threads_page import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
