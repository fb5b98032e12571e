"""Gunicorn settings for the scaled-out web processes (no scheduler runs in them).

Live updates hold one thread per open page (server-sent events), so workers are threaded:
size `threads` for the pages that stay open, plus headroom for ordinary requests.
"""

import multiprocessing
import os

bind = os.environ.get("EXCHANGE_BIND", "127.0.0.1:8080")
worker_class = "gthread"
workers = int(os.environ.get("EXCHANGE_WEB_WORKERS", max(2, multiprocessing.cpu_count())))
threads = int(os.environ.get("EXCHANGE_WEB_THREADS", "128"))
# Server-sent events stay open; heartbeats keep them alive well inside this timeout.
timeout = 60
graceful_timeout = 20
keepalive = 5
# Build the app in each worker after fork: nothing (no scheduler, no pool) is shared by fork.
preload_app = False
wsgi_app = "forum:create_app()"
accesslog = "-"
# Log paths without query strings: a query may carry a search term.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
errorlog = "-"
forwarded_allow_ips = os.environ.get("EXCHANGE_FORWARDED_ALLOW_IPS", "127.0.0.1")
