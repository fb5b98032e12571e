"""What a push service - or a member's endpoint pretending to be one - that is silent, drips
its answer or answers at length may cost the other members' pushes: one timeout per origin
per round at most, a send never past its deadline, and a message never sent twice.

Every server here is on loopback (allow-listed, as the suite's own push service is). The
time bounds asserted are a multiple of `push.timeout_seconds`, to prove the mechanism, never
a measure of speed."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from forum.extensions import db
from forum.notify import subscriptions
from forum.notify.channels.push import NOT_DELIVERED
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import OutboxMessage
from tests.support.alerts import raise_alert


def _subscription(endpoint: str, device) -> dict:  # type: ignore[no-untyped-def]
    data = device.subscription()
    data["endpoint"] = endpoint
    return data


class SilentService:
    """Accepts every connection and never answers (a device endpoint that hangs)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()
        self._thread.join(5)


@contextmanager
def serving(do_post: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[str]:
    """An HTTP/1.1 keep-alive server on loopback answering POSTs with `do_post`; its origin."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            do_post(self)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _push_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "push")))


def test_devices_that_never_answer_cost_one_timeout_per_round_not_one_per_device(
    app, members, push_service
):
    """Ten devices of one member on an endpoint that accepts and never answers: the first
    send waits its timeout, the others of that origin wait for the next round (retried with
    the usual backoff), and the other members' devices get their message before the timeout
    could have passed twice."""
    timeout = 2
    app.config["EXCHANGE"]["push"]["timeout_seconds"] = timeout
    silent = SilentService()
    try:
        mallory = members.make()
        for n in range(10):
            subscriptions.subscribe(
                mallory,
                _subscription(f"{silent.origin}/push/{n}", push_service.device()),
                session_ref=None,
            )
        good = []
        for _ in range(4):
            device = push_service.device()
            subscriptions.subscribe(members.make(), device.subscription(), session_ref=None)
            good.append(device)
        db.session.commit()
        raise_alert(members.make())
        started = time.time()
        dispatch_due()
        db.session.commit()
        arrived = [m.at for d in good for m in push_service.messages_for(d)]
        assert len(arrived) == len(good)
        assert max(arrived) - started < 2 * timeout
        assert len(silent.connections) == 1
        held = [row for row in _push_rows() if row.status != "sent"]
        assert len(held) == 10
        assert {(row.status, row.last_error) for row in held} == {("pending", NOT_DELIVERED)}
    finally:
        silent.close()


def test_a_push_service_that_drips_its_answer_cannot_hold_the_sender_past_its_timeout(
    app, members, push_service
):
    """An answer trickling a byte every 0.3 s (each read well under the timeout) would hold
    the send for the 100,000 bytes it announces: the POST's deadline ends it."""
    timeout = 1
    app.config["EXCHANGE"]["push"]["timeout_seconds"] = timeout
    stop = threading.Event()
    posts: list[str] = []

    def drip(handler: BaseHTTPRequestHandler) -> None:
        posts.append(handler.path)
        handler.send_response(201)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        while not stop.is_set():
            try:
                handler.wfile.write(b"x")
                handler.wfile.flush()
            except OSError:
                return
            stop.wait(0.3)

    with serving(drip) as origin:
        try:
            for n in range(3):
                subscriptions.subscribe(
                    members.make(),
                    _subscription(f"{origin}/push/{n}", push_service.device()),
                    session_ref=None,
                )
            db.session.commit()
            raise_alert(members.make())
            done = threading.Event()

            def run() -> None:
                with app.app_context():
                    dispatch_due()
                    db.session.remove()
                done.set()

            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            assert done.wait(8 * timeout), "a send is still held by the dripping answer"
            assert len(posts) == 1  # the origin timed out: its other rows wait for a retry
            assert {(r.status, r.last_error) for r in _push_rows()} == {("pending", NOT_DELIVERED)}
        finally:
            stop.set()
            worker.join(10)


def test_a_long_answer_from_the_push_service_never_sends_the_next_message_twice(
    app, members, push_service
):
    """A 201 with 200 KB of body on a kept-alive connection: were the connection used again
    with the answer unread, the next POST would meet the rest of it, fail, and go twice."""
    posts: Counter[str] = Counter()
    lock = threading.Lock()

    def chatty(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            posts[handler.path] += 1
        body = b"x" * 200_000
        handler.send_response(201)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except OSError:
            pass

    with serving(chatty) as origin:
        paths = [f"/push/{n}" for n in range(3)]
        for path in paths:
            subscriptions.subscribe(
                members.make(),
                _subscription(origin + path, push_service.device()),
                session_ref=None,
            )
        db.session.commit()
        raise_alert(members.make())
        dispatch_due()
        db.session.commit()
        with lock:
            assert posts == Counter(dict.fromkeys(paths, 1))
        assert {row.status for row in _push_rows()} == {"sent"}


def test_urgent_outcomes_are_recorded_within_a_second_not_only_every_fifty_sends(
    app, members, add_device, monkeypatch
):
    """Behind slow sends, the devices that took the alert are recorded as they go (the board
    and the standby e-mails learn of them), not once fifty sends have come back."""
    from forum.notify import pushes
    from forum.notify.channels.push import PushSender

    for _ in range(5):
        add_device(members.make())
    real_send = PushSender.send

    def slow_send(self, delivery, subscription):  # type: ignore[no-untyped-def]
        time.sleep(0.4)  # each device slow to answer, well inside the timeout
        return real_send(self, delivery, subscription)

    groups: list[int] = []
    real_flush = pushes._flush

    def counted(pending, record, released):  # type: ignore[no-untyped-def]
        groups.append(len(pending))
        real_flush(pending, record, released)

    monkeypatch.setattr(PushSender, "send", slow_send)
    monkeypatch.setattr(pushes, "_flush", counted)
    raise_alert(members.make())
    dispatch_due()
    db.session.commit()
    assert sum(groups) == 5
    assert len(groups) > 1 and groups[0] < 5
    assert {row.status for row in _push_rows()} == {"sent"}
