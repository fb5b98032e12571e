"""Serving one page's live stream: authorise its topics, register it with this process's hub,
then either hand it to the ASGI front's event loop or serve it from this thread."""

from __future__ import annotations

import logging
import queue
import socket
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request

from forum.notify.live.channel import (
    ASYNC_SUBSCRIBER,
    ASYNC_WAKE,
    Hub,
    Subscriber,
    format_event,
    listener_for,
)
from forum.notify.live.topics import allowed_topics

log = logging.getLogger(__name__)


def stream_events(
    subscriber: Subscriber, hub: Hub, heartbeat: float, lifetime: float
) -> Iterator[str]:
    """The SSE body of one page: events as they come, heartbeats between, then it ends."""
    try:
        yield "retry: 2000\n: connected\n\n"
        deadline = time.monotonic() + lifetime
        while time.monotonic() < deadline:
            try:
                item = subscriber.queue.get(timeout=min(heartbeat, deadline - time.monotonic()))
            except queue.Empty:
                yield ": heartbeat\n\n"
                continue
            if item is None:
                return
            yield format_event(*item)
    finally:
        hub.remove(subscriber)


def _limit_unacknowledged(heartbeat: float) -> None:
    """A page whose network vanished (no FIN, no RST) would keep its thread until TCP gives up
    (~15 minutes); TCP_USER_TIMEOUT makes the kernel fail the write after three heartbeats."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if sock is None or option is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, option, int(heartbeat * 3 * 1000))
    except OSError:
        log.debug("TCP_USER_TIMEOUT not available on this socket")


def open_stream(member: Any, watch: list[str]) -> Response:
    """The answer to a page's stream request: 204 when its member holds too many streams."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    listener = listener_for(app)
    topics = allowed_topics(member, watch)
    wake = request.environ.get(ASYNC_WAKE)
    subscriber = Subscriber(member_id=member.id, topics=tuple(topics), wake=wake)
    settings = app.config["EXCHANGE"]["server"]
    if not listener.hub.add(subscriber, limit=int(settings["live_streams_per_member"])):
        # 204 is how the SSE standard tells EventSource to stop reconnecting: the page's error
        # handler then polls (static/live.js), and the console shows no failed request.
        refused = Response(status=204)
        return refused
    if wake is not None:  # the ASGI front serves the stream on its event loop
        request.environ[ASYNC_SUBSCRIBER] = (subscriber, listener.hub)
        accepted = Response(mimetype="text/event-stream")
        accepted.headers["X-Accel-Buffering"] = "no"
        accepted.headers["Cache-Control"] = "no-store"
        return accepted
    _limit_unacknowledged(float(settings["live_heartbeat_seconds"]))
    body = stream_events(
        subscriber,
        listener.hub,
        float(settings["live_heartbeat_seconds"]),
        float(settings["live_stream_seconds"]),
    )
    # The database session is released when this view returns: the stream holds none.
    response = Response(body, mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    return response
