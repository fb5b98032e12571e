"""Gunicorn settings for the scaled-out web processes (no scheduler runs in them).

Address and threads come from the Exchange's own settings (server.host, server.port,
server.threads in the TOML file named by EXCHANGE_CONFIG, or EXCHANGE_SERVER_* variables), so
one file configures everything; command-line flags (`--workers 4`, `--bind …`) override them.
Live updates hold one thread per open page (server-sent events), so workers are threaded:
size `threads` for the pages that stay open, plus headroom for ordinary requests.
"""

import multiprocessing

from forum.config import ConfigError, load_settings
from forum.notify.dispatcher import UrgentDispatch
from forum.security.ratelimit import refuse_unshared_counters

_settings = load_settings()
_server = _settings["server"]

bind = f"{_server['host']}:{_server['port']}"
worker_class = "gthread"
workers = max(2, multiprocessing.cpu_count())
threads = _server["threads"]
# Server-sent events stay open; heartbeats keep them alive well inside this timeout.
timeout = 60
graceful_timeout = 20
keepalive = 5
# Build the app in each worker after fork: nothing (no scheduler, no pool) is shared by fork.
preload_app = False
wsgi_app = "forum:create_app()"
# No access log: an invite's first request carries its one-time token in the path, and a
# search its words in the query. The application logs what it needs, by id.
accesslog = None
errorlog = "-"


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
    worker.exchange_urgent = UrgentDispatch(worker.wsgi)
    worker.exchange_urgent.start()


def worker_exit(_server, worker):
    """Let urgent sends in flight finish."""
    urgent = getattr(worker, "exchange_urgent", None)
    if urgent is not None:
        urgent.stop()
