"""Signed webhooks: registered by coordinators, content-free, verifiable by the receiver."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from forum.extensions import db
from forum.notify.channels.addresses import AllowList
from forum.notify.channels.webhook import url_problem, verify
from forum.notify.dispatcher import dispatch_due
from forum.notify.models import WebhookEndpoint
from forum.notify.webhooks import enqueue_webhooks, register_endpoint
from tests.platform.helpers import CONFIDENTIAL, make_due_now, rows


class Receiver:
    """A tiny loopback HTTP server that records what it receives."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback for this test."""
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def test_webhook_is_signed_and_the_receiver_can_verify_it(app, members, receiver):
    coordinator = members.coordinator()
    organisation = members.organisation()
    endpoint, secret = register_endpoint(coordinator, organisation, receiver.url)
    enqueue_webhooks(
        event_key="alert:1",
        kind="alert.raised",
        subject="An urgent alert was raised",
        link="/alerts/1",
        urgent=True,
    )
    db.session.commit()
    assert dispatch_due().sent == 1
    ((headers, body),) = receiver.requests
    assert headers["X-Exchange-Signature"].startswith("sha256=")
    assert verify(secret, headers["X-Exchange-Timestamp"], body, headers["X-Exchange-Signature"])
    assert not verify(
        "another secret", headers["X-Exchange-Timestamp"], body, headers["X-Exchange-Signature"]
    )
    document = json.loads(body)
    assert document["kind"] == "alert.raised"
    assert document["link"] == "http://127.0.0.1:5000/alerts/1"
    assert document["organisation_id"] == organisation.id
    assert document["delivery_id"] == headers["X-Exchange-Delivery"]
    assert CONFIDENTIAL not in body.decode()


def test_a_tampered_body_does_not_verify(app, members, receiver):
    coordinator = members.coordinator()
    _endpoint, secret = register_endpoint(coordinator, members.organisation(), receiver.url)
    enqueue_webhooks(event_key="e", kind="k", subject="s", link="/x")
    db.session.commit()
    dispatch_due()
    ((headers, body),) = receiver.requests
    tampered = body.replace(b'"kind":"k"', b'"kind":"z"')
    assert not verify(
        secret, headers["X-Exchange-Timestamp"], tampered, headers["X-Exchange-Signature"]
    )


def test_url_and_secret_are_sealed_in_the_database(app, members, receiver):
    coordinator = members.coordinator()
    endpoint, secret = register_endpoint(coordinator, members.organisation(), receiver.url)
    db.session.commit()
    assert receiver.url.encode() not in endpoint.url_sealed
    assert secret.encode() not in endpoint.secret_sealed


def test_receiver_error_means_retry_later(app, members, receiver):
    coordinator = members.coordinator()
    register_endpoint(coordinator, members.organisation(), receiver.url)
    enqueue_webhooks(event_key="e", kind="k", subject="s", link="/x")
    db.session.commit()
    receiver.status = 503
    assert dispatch_due().retrying == 1
    assert rows()[0].last_error == "HTTP 503"
    receiver.status = 200
    make_due_now()
    assert dispatch_due().sent == 1
    assert len(receiver.requests) == 2
    assert receiver.requests[0][1] == receiver.requests[1][1]  # the same delivery, resent


def test_disabled_endpoint_receives_nothing(app, members, receiver):
    coordinator = members.coordinator()
    endpoint, _secret = register_endpoint(coordinator, members.organisation(), receiver.url)
    enqueue_webhooks(event_key="e", kind="k", subject="s", link="/x")
    endpoint.is_active = False
    db.session.commit()
    assert dispatch_due().cancelled == 1
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://hooks.example.org/x", "https only"),
        ("ftp://hooks.example.org/x", "https only"),
        ("https://user:pw@hooks.example.org/x", "user name"),
        ("https:///nohost", "host"),
        ("", "address"),
    ],
)
def test_webhook_addresses_must_be_https(url, problem):
    assert problem in (url_problem(url) or "")


def test_https_addresses_and_allow_listed_loopback_http_are_accepted():
    assert url_problem("https://hooks.example.org/exchange") is None
    assert url_problem("http://127.0.0.1:9000/hook", AllowList.parse("127.0.0.1")) is None
    assert url_problem("http://127.0.0.1:9000/hook") == "Webhooks are sent over https only."


def test_coordinator_registers_a_webhook_and_sees_its_secret_once(
    app, members, make_browser, receiver
):
    coordinator = members.coordinator()
    organisation = members.organisation("Police Federale", country="BE")
    browser = make_browser(coordinator)
    response = browser.post(
        "/notifications/webhooks", {"organisation_id": organisation.id, "url": receiver.url}
    )
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    secret = re.search(r'<code class="secret">([^<]+)</code>', page).group(1)
    assert len(secret) >= 40
    later = browser.get("/notifications/webhooks").get_data(as_text=True)
    assert secret not in later and receiver.url in later
    endpoint = db.session.scalars(db.select(WebhookEndpoint)).one()
    assert endpoint.organisation_id == organisation.id and endpoint.is_active


def test_invalid_webhook_address_is_refused_with_the_text_kept(app, members, make_browser):
    coordinator = members.coordinator()
    organisation = members.organisation()
    response = make_browser(coordinator).post(
        "/notifications/webhooks",
        {"organisation_id": organisation.id, "url": "http://hooks.example.org/plain"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Webhooks are sent over https only." in page
    assert 'value="http://hooks.example.org/plain"' in page
    assert db.session.scalars(db.select(WebhookEndpoint)).all() == []


def test_coordinator_disables_a_webhook(app, members, make_browser, receiver):
    coordinator = members.coordinator()
    endpoint, _ = register_endpoint(coordinator, members.organisation(), receiver.url)
    db.session.commit()
    response = make_browser(coordinator).post(
        f"/notifications/webhooks/{endpoint.id}/active", {"active": "0"}
    )
    assert response.status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.is_active is False and endpoint.disabled_at is not None


def test_members_cannot_see_or_manage_webhooks(app, members, make_browser, receiver):
    coordinator, member = members.coordinator(), members.make()
    endpoint, _ = register_endpoint(coordinator, members.organisation(), receiver.url)
    db.session.commit()
    browser = make_browser(member)
    assert browser.get("/notifications/webhooks").status_code == 403
    assert (
        browser.post(
            "/notifications/webhooks",
            {"organisation_id": endpoint.organisation_id, "url": receiver.url},
        ).status_code
        == 403
    )
    assert (
        browser.post(f"/notifications/webhooks/{endpoint.id}/active", {"active": "0"}).status_code
        == 403
    )
    db.session.refresh(endpoint)
    assert endpoint.is_active
