"""The live channel: a real threaded server on loopback, a real SSE client reading the stream."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from forum.alerts import services
from forum.extensions import db
from forum.members.sessions import SESSION_KEY, start_session
from forum.notify import live
from tests.support.alerts import CANARY, raise_alert


class Server:
    """The app on a threaded WSGI server on 127.0.0.1."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def cookie_for(self, member: Any) -> str:
        token = start_session(member)
        db.session.commit()
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        return f"exchange_session={serializer.dumps({SESSION_KEY: token})}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture
def server(app: Flask) -> Iterator[Server]:
    app.config["EXCHANGE"]["server"]["live_heartbeat_seconds"] = 1
    running = Server(app)
    try:
        yield running
    finally:
        live.stop_listener(app)
        running.stop()


class Stream:
    """A minimal server-sent-events client on a raw HTTP connection."""

    def __init__(self, port: int, cookie: str, path: str = "/live/stream") -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.connection.request(
            "GET", path, headers={"Cookie": cookie, "Accept": "text/event-stream"}
        )
        self.response = self.connection.getresponse()

    def next_event(self, name: str, timeout: float = 10.0) -> dict[str, Any]:
        """Read until an event called `name` arrives (bounded in time)."""
        deadline = time.monotonic() + timeout
        current = None
        while time.monotonic() < deadline:
            line = self.response.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                current = line[len("event: ") :]
            elif line.startswith("data: ") and current == name:
                return json.loads(line[len("data: ") :])
        raise AssertionError(f"no {name!r} event within {timeout} s")

    def close(self) -> None:
        self.connection.close()


def _wait_for(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_stream_needs_a_signed_in_member(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/live/stream")
    response = connection.getresponse()
    assert response.status in (302, 401)
    connection.close()


def test_connected_page_receives_the_alert_raised_by_another_member(server, members):
    raiser = members.make()
    reader = members.make()
    stream = Stream(server.port, server.cookie_for(reader))
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        listener = live.listener_for(server.app)
        assert _wait_for(lambda: listener.hub.count() == 1)
        alert = raise_alert(raiser)
        event = stream.next_event("notification")
        assert event["link"] == f"/alerts/{alert.id}"
        assert event["kind"] == "alert.raised" and event["urgent"] is True
        assert CANARY in event["text"]
    finally:
        stream.close()


def test_watched_alert_topic_is_refreshed_when_someone_answers(server, members):
    raiser = members.make()
    helper = members.make()
    alert = raise_alert(raiser)
    stream = Stream(server.port, server.cookie_for(raiser), f"/live/stream?watch=alert:{alert.id}")
    try:
        listener = live.listener_for(server.app)
        assert _wait_for(lambda: listener.hub.count() == 1)
        services.answer_alert(helper, alert.id, "can_help")
        db.session.commit()
        assert stream.next_event("topic") == {"topic": f"alert:{alert.id}"}
    finally:
        stream.close()


def test_member_cannot_watch_an_alert_they_may_not_read(server, members):
    raiser = members.make(country="BE")
    outsider = members.make(country="US")
    alert = raise_alert(raiser, countries=["BE"])
    stream = Stream(
        server.port, server.cookie_for(outsider), f"/live/stream?watch=alert:{alert.id}"
    )
    try:
        listener = live.listener_for(server.app)
        assert _wait_for(lambda: listener.hub.count() == 1)
        assert not listener.hub._topics  # the watch was refused, silently
    finally:
        stream.close()


def test_dropped_connection_frees_its_thread_at_the_next_heartbeat(server, members):
    reader = members.make()
    stream = Stream(server.port, server.cookie_for(reader))
    listener = live.listener_for(server.app)
    assert _wait_for(lambda: listener.hub.count() == 1)
    # Drop the connection without a goodbye, as a phone going into a tunnel would.
    stream.response.fp.raw._sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]
    stream.close()
    assert _wait_for(lambda: listener.hub.count() == 0, timeout=15)


def test_poll_fallback_lists_unread_urgent_alerts(server, members, make_browser):
    raiser = members.make()
    reader = members.make()
    alert = raise_alert(raiser)
    body = make_browser(reader).get("/live/poll").get_json()
    assert body["unread"] == 1
    assert [n["link"] for n in body["urgent"]] == [alert.link]
