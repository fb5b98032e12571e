"""Signed webhooks: a content-free JSON POST, signed with HMAC-SHA256 over timestamp and body.

A receiver checks `X-Exchange-Signature: sha256=<hex>` where hex is
HMAC-SHA256(secret, "<X-Exchange-Timestamp>." + raw body), and refuses old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from forum.notify.channels import Delivery, Outcome, absolute_link

SIGNATURE_HEADER = "X-Exchange-Signature"
TIMESTAMP_HEADER = "X-Exchange-Timestamp"
DELIVERY_HEADER = "X-Exchange-Delivery"
MAX_URL_LENGTH = 500


def url_problem(url: str) -> str | None:
    """Why a webhook address is not acceptable, in a plain sentence (None: it is fine)."""
    url = url.strip()
    if not url:
        return "Please give the webhook's address."
    if len(url) > MAX_URL_LENGTH:
        return f"The address is longer than {MAX_URL_LENGTH} characters."
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        return "This is not a valid web address."
    if parts.username or parts.password:
        return "The address may not carry a user name or password; use the signing secret."
    if not host:
        return "The address needs a host name."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _is_loopback(host):
        return None  # a receiver on this very machine (and the tests)
    return "Webhooks are sent over https only."


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off https or to another host: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def post(
    delivery: Delivery,
    *,
    url: str,
    secret: str,
    organisation_id: str,
    base_url: str,
    timeout: float,
) -> Outcome:
    """POST one signed delivery; 2xx is success, anything else is retried later."""
    body = payload(delivery, organisation_id=organisation_id, base_url=base_url)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - https (or loopback http) checked at registration
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "INVICTM-Exchange-Webhook/1",
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: delivery.id,
        },
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        error.close()
        return Outcome(
            delivery.id, ok=False, error=f"HTTP {error.code}", permanent=error.code == 410
        )
    except TimeoutError:
        return Outcome(delivery.id, ok=False, error="timed out")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return Outcome(delivery.id, ok=False, error=f"network: {type(reason).__name__}")
    if 200 <= status < 300:
        return Outcome(delivery.id, ok=True)
    return Outcome(delivery.id, ok=False, error=f"HTTP {status}")
