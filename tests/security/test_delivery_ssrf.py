"""Webhooks cannot reach the Exchange's own network (issue 9, item 13).

Private, loopback, link-local (cloud metadata), multicast and unspecified addresses, their IPv6
forms and IPv4-mapped IPv6 addresses are refused when an address is saved and, after DNS
resolution, when a delivery is sent; the connection goes to the address that was checked; no
redirect is followed; and the failed-deliveries page gives one generic reason, so it cannot be
used as a port scanner. No test here connects anywhere but loopback: resolution is replaced.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from forum.extensions import db
from forum.notify.channels import addresses
from forum.notify.channels.webhook import NOT_DELIVERED, url_problem
from forum.notify.dispatcher import dispatch_due
from forum.notify.webhooks import enqueue_webhooks, register_endpoint
from tests.platform.helpers import closed_port, rows

INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",  # noqa: S104 - an address under test, not a bind
    "224.0.0.1",
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[fe80::1]",
    "[fc00::1]",
    "[ff02::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:10.0.0.1]",
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "localhost",
    "2130706433",  # 127.0.0.1 written as one number
    "0x7f000001",
    "017700000001",
]


@pytest.mark.parametrize("host", INTERNAL)
def test_internal_addresses_are_refused_when_saved(host):
    assert url_problem(f"https://{host}/hook") is not None


def test_an_allow_listed_internal_receiver_is_accepted():
    allow = addresses.AllowList.parse("hooks.internal, 10.20.0.0/16")
    assert url_problem("http://hooks.internal:8443/hook", allow) is None
    assert url_problem("https://10.20.1.2/hook", allow) is None
    assert url_problem("https://10.21.1.2/hook", allow) is not None


@pytest.fixture
def no_outside_connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record (and refuse) any attempt to open a connection that is not loopback."""
    attempts: list[object] = []
    real = socket.create_connection

    def guarded(address, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not ipaddress.ip_address(address[0]).is_loopback:
            attempts.append(address)
            raise ConnectionRefusedError
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts


def _resolving(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    looked_up: list[str] = []

    def resolve(host: str, _port: int) -> list[addresses.IPAddress]:
        looked_up.append(host)
        return [ipaddress.ip_address(a) for a in answers]

    monkeypatch.setattr(addresses, "resolve", resolve)
    return looked_up


@pytest.mark.parametrize(
    "answers",
    [
        ["169.254.169.254"],
        ["10.0.0.7"],
        ["::ffff:127.0.0.1"],
        ["fd00::7"],
        ["93.184.216.34", "192.168.0.10"],  # one public answer does not cover a private one
    ],
)
def test_a_public_name_resolving_to_an_internal_address_is_refused_when_sent(
    app, members, monkeypatch, no_outside_connections, answers
):
    register_endpoint(members.coordinator(), members.organisation(), "https://hooks.example.org/h")
    enqueue_webhooks(event_key="e", kind="k", subject="s", link="/x")
    db.session.commit()
    _resolving(monkeypatch, answers)  # DNS changed after the address was saved (rebinding)
    result = dispatch_due()
    assert result.sent == 0 and result.failed == 1
    assert no_outside_connections == []
    assert rows()[0].last_error == NOT_DELIVERED


class Receiver:
    """A loopback receiver that records Host headers and answers with `status`."""

    def __init__(self, status: int = 204, location: str = "") -> None:
        self.hosts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.hosts.append(self.headers["Host"])
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def test_the_connection_goes_to_the_address_that_was_checked(app, members, monkeypatch, receiver):
    app.config["EXCHANGE"]["delivery"]["webhook_allow_hosts"] = "hooks.internal"
    url = f"http://hooks.internal:{receiver.port}/hook"
    register_endpoint(members.coordinator(), members.organisation(), url)
    enqueue_webhooks(event_key="e", kind="k", subject="s", link="/x")
    db.session.commit()
    looked_up = _resolving(monkeypatch, ["127.0.0.1"])
    assert dispatch_due().sent == 1
    assert looked_up == ["hooks.internal"]  # resolved once, then connected to that address
    assert receiver.hosts == [f"hooks.internal:{receiver.port}"]


def test_a_redirect_is_not_followed(app, members, no_outside_connections):
    target = Receiver()
    bouncer = Receiver(status=307, location=f"http://127.0.0.1:{target.port}/elsewhere")
    try:
        url = f"http://127.0.0.1:{bouncer.port}/hook"
        register_endpoint(members.coordinator(), members.organisation(), url)
        enqueue_webhooks(event_key="e", kind="k", subject="s", link="/x")
        db.session.commit()
        assert dispatch_due().sent == 0
        assert len(bouncer.hosts) == 1 and target.hosts == []
    finally:
        bouncer.close()
        target.close()


def test_the_failed_deliveries_page_does_not_tell_a_refused_port(app, members, make_browser):
    app.config["EXCHANGE"]["delivery"]["max_attempts"] = 1
    coordinator = members.coordinator()
    url = f"http://127.0.0.1:{closed_port()}/hook"
    register_endpoint(coordinator, members.organisation(), url)
    enqueue_webhooks(event_key="e", kind="k", subject="s", link="/x")
    db.session.commit()
    assert dispatch_due().failed == 1
    page = make_browser(coordinator).get("/notifications/failed").get_data(as_text=True)
    assert NOT_DELIVERED in page
    for detail in ("Refused", "refused", "network", "Errno", "timed out", "127.0.0.1"):
        assert detail not in page
