"""Gunicorn settings for the scaled-out web processes (no scheduler runs in them).

Address and threads come from the Exchange's own settings (server.host, server.port,
server.threads in the TOML file named by EXCHANGE_CONFIG, or EXCHANGE_SERVER_* variables), so
one file configures everything; command-line flags (`--workers 4`, `--bind …`) override them.

Each worker is gunicorn's ASGI worker (an asyncio event loop) running the Exchange's front
(forum/ops/asgi.py): slow clients and open live pages (server-sent events) wait on the loop and
hold no thread; page requests run the Flask app on `server.threads` threads per worker. This is
the same server `exchange serve` runs, with more workers and no scheduler.
"""

import multiprocessing

from forum.config import ConfigError, load_settings
from forum.notify.urgent import UrgentDispatch
from forum.ops.asgi import flask_app_of, raise_open_file_limit
from forum.security.ratelimit import refuse_unshared_counters

_settings = load_settings()
_server = _settings["server"]

bind = f"{_server['host']}:{_server['port']}"
worker_class = "asgi"
asgi_lifespan = "on"
workers = max(2, multiprocessing.cpu_count())
# Server-sent events stay open; heartbeats keep them alive well inside this timeout.
timeout = 60
graceful_timeout = 20
keepalive = 5
# Build the app in each worker after fork: nothing (no scheduler, no pool) is shared by fork.
preload_app = False
wsgi_app = "forum.ops.asgi:create_asgi()"
# No access log: an invite's first request carries its one-time token in the path, and a
# search its words in the query. The application logs what it needs, by id.
accesslog = None
errorlog = "-"
# Thousands of open connections per worker: raise the soft open-file limit (inherited by the
# workers); systemd's LimitNOFILE (exchange-web.service) sets the hard one.
raise_open_file_limit()


def on_starting(server):
    """Refuse to start several workers that would each keep their own rate-limit counters
    (memory://): every limit would silently multiply by the number of workers."""
    security = _settings["security"]
    try:
        refuse_unshared_counters(
            security["ratelimit_storage_uri"], server.cfg.workers, security["ratelimit_enabled"]
        )
    except ConfigError as error:  # gunicorn prints a RuntimeError and exits 1
        raise RuntimeError(str(error)) from None


def post_worker_init(worker):
    """Send urgent deliveries (alerts) from this web process right after the commit that wrote
    them, instead of waiting for the worker's sweep; claims are leased, so nothing goes twice."""
    worker.exchange_urgent = UrgentDispatch(flask_app_of(worker))
    worker.exchange_urgent.start()


def worker_exit(_server, worker):
    """Let urgent sends in flight finish."""
    urgent = getattr(worker, "exchange_urgent", None)
    if urgent is not None:
        urgent.stop()
