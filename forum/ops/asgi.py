"""The web process's front: an asyncio (ASGI) application around the Flask (WSGI) app.

Served by gunicorn's own ASGI worker (`worker_class = "asgi"`, gunicorn >= 25), in the embedded
default and scaled out alike. Why: a thread per connection does not survive an attack — a few
hundred connections that send their headers a byte at a time, or a few hundred open live pages,
took every thread of the old gthread worker and stopped every page. On an event loop:

- a connection costs a few kilobytes until its request is complete (headers parsed by the
  worker; a body read here, on the loop, before any thread is taken), so slow or idle clients
  take no thread at all;
- page requests run the Flask app on a small pool of threads (`server.threads`), through
  a2wsgi, the documented WSGI-to-ASGI adapter;
- the live channel's streams (`/live/stream`) are authorised by the Flask view as any request
  is (session, revocation, headers), then served here on the loop, so an open page holds no
  thread either; a member may hold `server.live_streams_per_member` of them per process.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
import logging
import queue
import resource
from collections.abc import Awaitable, Callable
from typing import Any, cast

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import Body, build_environ
from flask import Flask

from forum import create_app
from forum.notify import live
from forum.ops.heap import settle_heap

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# A request body must arrive within this long (a slow-POST client holds no thread meanwhile).
BODY_SECONDS = 30.0
# The front buffers at most twice uploads.max_bytes (at least 1 MiB more): below that, Flask's
# own limit (MAX_CONTENT_LENGTH) decides and answers as the app does; this only bounds memory.
BODY_MARGIN = 1024 * 1024


def raise_open_file_limit(wanted: int = 65536) -> int:
    """Raise this process's soft limit of open files towards `wanted` (thousands of sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            log.warning("could not raise the open-file limit above %d", soft)
    return int(soft)


class ExchangeASGI:
    """Page requests to the Flask app on a thread pool; live streams on the event loop."""

    def __init__(self, flask_app: Flask) -> None:
        self.flask = flask_app
        settings = flask_app.config["EXCHANGE"]
        self.threads = int(settings["server"]["threads"])
        self.pages = WSGIMiddleware(cast(Any, flask_app), workers=self.threads)
        self.executor = self.pages.executor
        self.heartbeat = float(settings["server"]["live_heartbeat_seconds"])
        self.lifetime = float(settings["server"]["live_stream_seconds"])
        max_bytes = int(settings["uploads"]["max_bytes"])
        self.max_body = max_bytes + max(BODY_MARGIN, max_bytes)
        self.stream_path = "/live/stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
        elif scope["path"] == self.stream_path and scope["method"] == "GET":
            await self._live(scope, receive, send)
        else:
            await self._page(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- pages ----------------------------------------------------------------------------

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the whole body on the loop (bounded in size and time), then take a thread."""
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.pages(cast(Any, scope), cast(Any, replay), cast(Any, send))

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _plain(send, 413, "The request is too large.")
            return None
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BODY_SECONDS
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                await _plain(send, 408, "The request took too long to arrive.")
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _plain(send, 413, "The request is too large.")
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    # --- the live channel -----------------------------------------------------------------

    async def _live(self, scope: Scope, receive: Receive, send: Send) -> None:
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        environ: dict[str, Any] = dict(
            build_environ(cast(Any, scope), Body(loop, cast(Any, receive)))
        )
        environ["wsgi.input"] = io.BytesIO(b"")
        environ[live.ASYNC_WAKE] = lambda: loop.call_soon_threadsafe(woken.set)
        call = functools.partial(contextvars.copy_context().run, _call_wsgi, self.flask, environ)
        status, headers, chunks = await loop.run_in_executor(self.executor, call)
        accepted = cast(tuple[live.Subscriber, live.Hub] | None, environ.get(live.ASYNC_SUBSCRIBER))
        if accepted is None:  # refused (signed out, too many streams): an ordinary answer
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"".join(chunks)})
            return
        subscriber, hub = accepted
        headers = [(k, v) for k, v in headers if k != b"content-length"]
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await self._pump(subscriber, woken, receive, send)
        finally:
            hub.remove(subscriber)

    async def _pump(
        self, subscriber: live.Subscriber, woken: asyncio.Event, receive: Receive, send: Send
    ) -> None:
        """Events as they come, heartbeats between; ends on disconnect, lifetime or a stall."""
        loop = asyncio.get_running_loop()
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            woken.set()

        watcher = loop.create_task(watch())

        async def write(text: str, more: bool = True) -> bool:
            message = {"type": "http.response.body", "body": text.encode(), "more_body": more}
            try:  # a client that stopped reading fails after three heartbeats, not never
                await asyncio.wait_for(send(message), self.heartbeat * 3)
            except (TimeoutError, OSError, RuntimeError):
                return False
            return True

        try:
            if not await write("retry: 2000\n: connected\n\n"):
                return
            deadline = loop.time() + self.lifetime
            while not gone.is_set() and loop.time() < deadline:
                woken.clear()
                items = _drain(subscriber.queue)
                if any(item is None for item in items):
                    break
                if items:
                    if not await write("".join(live.format_event(*item) for item in items)):
                        return
                    continue
                try:
                    wait = min(self.heartbeat, max(0.0, deadline - loop.time()))
                    await asyncio.wait_for(woken.wait(), wait)
                except TimeoutError:
                    if not await write(": heartbeat\n\n"):
                        return
            if not gone.is_set():
                await write("", more=False)
        finally:
            watcher.cancel()


def _drain(items: queue.SimpleQueue[Any]) -> list[Any]:
    found = []
    while True:
        try:
            found.append(items.get_nowait())
        except queue.Empty:
            return found


def _call_wsgi(
    app: Flask, environ: dict[str, Any]
) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    """Run the Flask app for one request in this (pool) thread; collect the whole answer."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], _exc: Any = None) -> Any:
        answer["status"] = int(status.split(" ", 1)[0])
        answer["headers"] = [
            (name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers
        ]
        return lambda _chunk: None

    iterable = app(environ, start_response)
    try:
        chunks = list(iterable)
    finally:
        getattr(iterable, "close", lambda: None)()
    return answer["status"], answer["headers"], chunks


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin1").strip()
    return None


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


SERVING_STARTS = "exchange.serving_starts"


def create_asgi(flask_app: Flask | None = None) -> ExchangeASGI:
    """The ASGI application gunicorn serves: `gunicorn 'forum.ops.asgi:create_asgi()'`.

    A serving process then runs what the features asked to run when serving starts
    (`app.extensions[SERVING_STARTS]`: the search index builds in the background, so it is
    ready before the first search), after the heap is settled."""
    served = ExchangeASGI(flask_app if flask_app is not None else create_app())
    settle_heap()
    for start in served.flask.extensions.get(SERVING_STARTS, ()):
        start(served.flask)
    return served


def flask_app_of(worker: Any) -> Flask:
    """The Flask app a gunicorn worker serves (ASGI front or plain WSGI)."""
    served = getattr(worker, "asgi", None) or worker.wsgi
    return served.flask if isinstance(served, ExchangeASGI) else served
