"""The live channel: open pages learn of new notifications and watched topics without a reload.

Shape (one web process):
- Each open page holds one server-sent-events stream: one TCP connection and no database
  connection. Under `exchange serve` and the scaled-out gunicorn (the ASGI front,
  forum/ops/asgi.py) the view below only authorises the stream; the event loop then serves it,
  so an open page holds no thread. Elsewhere (the test client, a plain WSGI server) the view's
  generator serves it from its thread. Either way the page waits on an in-memory queue, gets a
  heartbeat every `server.live_heartbeat_seconds` so a dead client fails a write, and the
  stream ends after `server.live_stream_seconds` (the browser reconnects and re-authenticates).
- A member holds at most `server.live_streams_per_member` streams per process; one more is
  refused (204: EventSource does not reconnect) and that page polls instead.
- One background listener thread per process reads new rows of `live_events` (a tiny,
  content-free table with an increasing id, written in the transaction of the event) and fans
  out in memory to the pages connected to this process. It is woken at once by a commit in the
  same process, by PostgreSQL LISTEN/NOTIFY from other processes, and otherwise polls.
- Events carry nothing confidential in the table: "notifications" (then the listener reads the
  new unread notifications of connected members only and sends each page its own) or a topic
  such as "alert:<id>" that pages watching it (authorised by the feature) refresh on.

This module is platform code: it imports no feature. Features authorise topic watching by
registering a function with `register_watch(prefix, allowed)`.
"""

from __future__ import annotations

from forum.notify.live.channel import (
    ASYNC_SUBSCRIBER,
    ASYNC_WAKE,
    Hub,
    Listener,
    Subscriber,
    format_event,
    listener_for,
    stop_listener,
)
from forum.notify.live.events import NOTIFICATIONS, LiveEvent, prune, publish
from forum.notify.live.streams import stream_events
from forum.notify.live.topics import describe, register_watch

__all__ = [
    "ASYNC_SUBSCRIBER",
    "ASYNC_WAKE",
    "NOTIFICATIONS",
    "Hub",
    "Listener",
    "LiveEvent",
    "Subscriber",
    "describe",
    "format_event",
    "listener_for",
    "prune",
    "publish",
    "register_watch",
    "stop_listener",
    "stream_events",
]
