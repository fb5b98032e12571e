"""The baseline for bench/alerts_live.py: a bare server-sent-events loop as a WSGI app.

GET /stream holds a page (a queue per connection, heartbeats every second); GET /fire puts one
event on every queue. Served by the same gunicorn gthread shape as the Exchange.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_queues: set[queue.SimpleQueue[str]] = set()


def _stream() -> Iterator[bytes]:
    mine: queue.SimpleQueue[str] = queue.SimpleQueue()
    with _lock:
        _queues.add(mine)
    try:
        yield b": connected\n\n"
        for _ in range(600):
            try:
                item = mine.get(timeout=1.0)
            except queue.Empty:
                yield b": heartbeat\n\n"
                continue
            yield f"event: notification\ndata: {item}\n\n".encode()
    finally:
        with _lock:
            _queues.discard(mine)


def app(environ: dict[str, Any], start_response: Any) -> Any:
    """The WSGI entry point."""
    path = environ.get("PATH_INFO", "")
    if path == "/stream":
        start_response(
            "200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")]
        )
        return _stream()
    if path == "/fire":
        with _lock:
            targets = list(_queues)
        for target in targets:
            target.put('{"kind": "alert.raised"}')
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(len(targets)).encode()]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
