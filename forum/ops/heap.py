"""The process heap after start-up."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Once start-up is done: collect, then move everything alive into the permanent generation
    (`gc.freeze()`), so the long-lived app, templates and modules are never scanned again — the
    first request that allocates a lot (an alert to 1,000 members) no longer pays a full
    collection over them, and forked workers keep sharing those pages. Called by the serving
    entry points only (never by create_app: tests make hundreds of apps in one process)."""
    gc.collect()
    gc.freeze()
