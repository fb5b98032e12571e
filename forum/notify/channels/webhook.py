"""Signed webhooks: a content-free JSON POST, signed with HMAC-SHA256 over timestamp and body.

A receiver checks `X-Exchange-Signature: sha256=<hex>` where hex is
HMAC-SHA256(secret, "<X-Exchange-Timestamp>." + raw body), and refuses old timestamps (replays).
Where a webhook may point, and how the address is checked when saved and when sent:
channels/addresses.py. A send never raises and never logs its URL or body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from forum.notify.channels import Delivery, Outcome, absolute_link, addresses

SIGNATURE_HEADER = "X-Exchange-Signature"
TIMESTAMP_HEADER = "X-Exchange-Timestamp"
DELIVERY_HEADER = "X-Exchange-Delivery"
MAX_URL_LENGTH = addresses.MAX_URL_LENGTH
# What the failed-deliveries page (and the outbox) says of any failure below HTTP: the page must
# not tell a refused connection from a timeout or a refused address (that is a port scanner).
NOT_DELIVERED = "not delivered (no answer from the receiver)"
log = logging.getLogger(__name__)


def allow_list() -> addresses.AllowList:
    """The deployment's trusted internal receivers (delivery.webhook_allow_hosts)."""
    return addresses.AllowList.parse(
        current_app.config["EXCHANGE"]["delivery"]["webhook_allow_hosts"]
    )


def url_problem(url: str, allow: addresses.AllowList | None = None) -> str | None:
    """Why a webhook address is not acceptable, in a plain sentence (None: it is fine)."""
    url = url.strip()
    if not url:
        return "Please give the webhook's address."
    return addresses.problem(url, allow if allow is not None else addresses.AllowList())


def origin_of(url: str) -> str:
    """Scheme and host of an address, safe to show and log."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """True when `signature` was made with `secret` over this timestamp and body."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(delivery: Delivery, *, organisation_id: str, base_url: str) -> bytes:
    """The content-free JSON body: what kind of event, a link, ids."""
    document: dict[str, Any] = {
        "delivery_id": delivery.id,
        "kind": delivery.kind,
        "subject": delivery.subject,
        "link": absolute_link(base_url, delivery.link),
        "urgent": delivery.is_urgent,
        "organisation_id": organisation_id,
        "created_at": delivery.created_at.isoformat(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def post(
    delivery: Delivery,
    *,
    url: str,
    secret: str,
    organisation_id: str,
    base_url: str,
    timeout: float,
    allow: addresses.AllowList | None = None,
) -> Outcome:
    """POST one signed delivery; 2xx is success. Never raises; never logs the URL or body."""
    allow = allow if allow is not None else addresses.AllowList()
    try:
        return _post(delivery, url, secret, organisation_id, base_url, timeout, allow)
    except addresses.AddressRefused:
        log.warning("webhook delivery %s refused: its address is not allowed", delivery.id)
        return Outcome(delivery.id, ok=False, error=NOT_DELIVERED, permanent=True)
    except Exception as error:  # noqa: BLE001 - one delivery must never stop the others
        # The exception's text may carry the URL: only its type is logged.
        log.warning("webhook delivery %s failed: %s", delivery.id, type(error).__name__)
        return Outcome(delivery.id, ok=False, error=NOT_DELIVERED)


def _post(
    delivery: Delivery,
    url: str,
    secret: str,
    organisation_id: str,
    base_url: str,
    timeout: float,
    allow: addresses.AllowList,
) -> Outcome:
    if url_problem(url, allow):  # saved before the checks existed, or the allow-list shrank
        raise addresses.AddressRefused("invalid")
    parts, host, port = addresses.parse(url.strip())
    address = addresses.checked_address(host, port, allow)
    body = payload(delivery, organisation_id=organisation_id, base_url=base_url)
    timestamp = str(int(time.time()))
    connection = addresses.pinned_connection(parts.scheme, host, port, address, timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "INVICTM-Exchange-Webhook/1",
                SIGNATURE_HEADER: sign(secret, timestamp, body),
                TIMESTAMP_HEADER: timestamp,
                DELIVERY_HEADER: delivery.id,
            },
        )
        response = connection.getresponse()
        status = response.status
        response.read(65536)  # a redirect (3xx) is not followed: it counts as a failure
    finally:
        connection.close()
    if 200 <= status < 300:
        return Outcome(delivery.id, ok=True)
    return Outcome(delivery.id, ok=False, error=f"HTTP {status}", permanent=status == 410)
