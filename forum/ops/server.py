"""`exchange serve`: gunicorn with ONE ASGI worker, the scheduler running inside that worker.

Why gunicorn's ASGI worker: slow clients and open live pages must not hold threads (a few
hundred of either stopped the old thread-per-connection worker for everyone). The worker's event
loop holds every connection; page requests run the Flask app on `server.threads` threads and the
live channel's streams stay on the loop (forum/ops/asgi.py). Gunicorn supervises and restarts the
worker, and the scaled-out deployment runs the very same server and front (deploy/). One worker,
because the embedded default keeps the scheduler and the in-memory live fan-out in one process.
The app is built inside the worker (not preloaded), so nothing is shared across fork.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from forum.ops.asgi import ExchangeASGI, create_asgi, flask_app_of, raise_open_file_limit
from forum.scheduling.leader import run_as_leader

log = logging.getLogger(__name__)


def _post_worker_init(worker: Any) -> None:
    """Start the scheduler (once the leader lock is held) in the serving worker."""
    app: Flask = flask_app_of(worker)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_as_leader, args=(app, stop), name="exchange-scheduler", daemon=True
    )
    thread.start()
    worker.exchange_scheduler = (stop, thread)


def _worker_exit(_server: Any, worker: Any) -> None:
    """Stop the scheduler cleanly: running jobs finish, the lock is released."""
    stop_and_thread = getattr(worker, "exchange_scheduler", None)
    if stop_and_thread is not None:
        stop, thread = stop_and_thread
        stop.set()
        thread.join(timeout=30)


class ExchangeServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn, configured in code, serving the front of an app built by `factory` in the worker."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> ExchangeASGI:
        return create_asgi(self.factory())  # the same start as the scaled-out web


def gunicorn_options(host: str, port: int, log_level: str) -> dict[str, Any]:
    """Options for the embedded server."""
    return {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "asgi",
        # The front answers lifespan itself; "on" makes a failure to start stop the server.
        "asgi_lifespan": "on",
        "timeout": 60,
        "graceful_timeout": 20,
        "keepalive": 5,
        "preload_app": False,
        # No access log: the first request of an invite carries its one-time token in the path.
        "accesslog": None,
        "errorlog": "-",
        "loglevel": log_level.lower(),
        "proc_name": "exchange",
        "control_socket_disable": True,
        "post_worker_init": _post_worker_init,
        "worker_exit": _worker_exit,
    }


def serve(factory: Callable[[], Flask], *, host: str, port: int, log_level: str) -> None:
    """Run the server in the foreground until it is stopped (SIGINT/SIGTERM)."""
    raise_open_file_limit()
    ExchangeServer(factory, gunicorn_options(host, port, log_level)).run()
