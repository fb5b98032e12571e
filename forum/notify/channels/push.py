"""Web Push: content-free messages to members' devices, over the standards a browser speaks.

- RFC 8291 message encryption (aes128gcm) is pywebpush's (`WebPusher.encode`), RFC 8292 VAPID
  signing is py_vapid's; neither is re-implemented here.
- The plaintext is JSON padded with trailing spaces to a multiple of 1 KiB (RFC 8291's own record
  padding is not offered by pywebpush): the length the push service sees says nothing of the
  member's language or the event's kind. No User-Agent names the product.
- RFC 8030 delivery is a POST to the subscription's endpoint with `TTL`, `Urgency` (high for
  urgent alerts) and `Topic` (the outbox id: a re-send after a crash replaces the message still
  queued at the push service instead of adding a second one; the notification's tag does the
  same on the device).
- The POST goes to the address checked when sent, like a webhook (channels/addresses.py): an
  endpoint is a URL a browser handed us, so it is treated as hostile. `push.allow_hosts` lets an
  internal or test push service through, over http too.
- Answers: 201/202 accepted; 404/410 the subscription is gone (it is ended, the row cancelled);
  other 4xx cannot succeed later (failed at once); 429, 5xx and no answer are retried with the
  outbox's backoff. A send never raises and never logs its endpoint or payload.
"""

from __future__ import annotations

import base64
import heapq
import http.client
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec

from forum.i18n import DEFAULT, Text, in_language
from forum.lazytext import lazy_gettext as _l
from forum.notify.channels import Delivery, Outcome, addresses

if TYPE_CHECKING:
    from py_vapid import Vapid02

log = logging.getLogger(__name__)

# Kinds whose notification carries the "Seen" / "I can help" actions.
ANSWERABLE_KINDS = frozenset({"alert.raised", "alert.reminder"})
# Their titles, said in the member's language in the payload (the worker has no catalogue).
ACTIONS: tuple[tuple[str, Text], ...] = (("seen", _l("Seen")), ("can_help", _l("I can help")))
# What the worker says after a tap: sent, kept until the phone is online again, or refused
# (the alert closed, the device ended): then the tap opens the alert instead.
SAID: tuple[tuple[str, Text], ...] = (
    ("sent", _l("Your answer was sent.")),
    ("waiting", _l("No connection: your answer will be sent when this phone is online again.")),
    ("refused", _l("Your answer could not be sent. Open the alert to answer there.")),
)
NOT_DELIVERED = "not delivered (no answer from the push service)"
GONE = "device gone (the push service no longer knows it)"
# 403: the push service refused our VAPID token — made with another key (a keyring restored
# from elsewhere) or a `sub` it does not accept (Apple refuses mailto:…@localhost). The row fails
# at once; the device is kept, since a configuration fix makes it work again.
REFUSED_KEY = "push service refused the Exchange's signature (HTTP 403)"
# The device's keys cannot be encrypted to (a p256dh that is not a point on P-256, stored
# before subscribing checked it): no later try can succeed, so the row fails at once.
BAD_KEYS = "device's keys cannot be used (encryption failed)"
# A VAPID token is valid for at most 24 hours (RFC 8292 §2); ours for 12, re-signed after 1.
VAPID_LIFETIME_SECONDS = 12 * 3600
VAPID_REUSE_SECONDS = 3600
# The encrypted payload's length is seen by the push service: every message is padded to a
# multiple of this. The longest today (an urgent alert with its actions and what the phone says
# of an answer, in Polish) is about 650 bytes; 1 KiB leaves room for a longer Exchange name.
PAD_BYTES = 1024
# Web Push carries at most 4096 bytes: aes128gcm takes 86 (header), 16 (tag) and 1 (delimiter).
MAX_PLAINTEXT_BYTES = 4096 - 86 - 16 - 1
# How much of a push service's answer is read (its status is what counts; RFC 8030 answers
# have no body to speak of). A longer answer ends its connection.
MAX_ANSWER_BYTES = 4096


def _remaining(deadline: float) -> float:
    """Seconds left before `deadline` (a little above zero: a socket timeout of 0 means
    non-blocking, not "already late")."""
    return max(deadline - time.monotonic(), 0.001)


class _Watchdog:
    """One thread for every POST's deadline in this process (a timer thread per POST cost more
    than the POST: 1,000 pushes started 1,000 threads). It shuts down the socket of a POST
    still running at its deadline."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Deadline]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._count = 0

    def watch(self, deadline: _Deadline) -> None:
        with self._wake:
            self._count += 1
            heapq.heappush(self._due, (deadline.at, self._count, deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="push-deadlines", daemon=True
                )
                self._thread.start()
            elif self._due[0][2] is deadline:
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._due and self._due[0][2].stopped:
                    heapq.heappop(self._due)
                if not self._due:
                    if not self._wake.wait(60):
                        self._thread = None  # idle a minute: the next POST starts one again
                        return
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                _, _, expired = heapq.heappop(self._due)
            expired.fire()


_WATCHDOG = _Watchdog()


class _Deadline:
    """Shuts a connection's socket down at `deadline`, so a read blocked on a peer that
    drips its answer returns at once; stop() says whether the POST finished in time."""

    def __init__(self, connection: http.client.HTTPConnection, deadline: float) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self.at = deadline
        self.stopped = False
        self._fired = False
        _WATCHDOG.watch(self)

    def fire(self) -> None:
        with self._lock:
            if self.stopped:
                return
            self._fired = True
            sock = self._connection.sock
        if sock is not None:
            try:  # the plain socket's shutdown: a TLS socket's would unhook it mid-read
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> bool:
        """Disarm; True when the deadline had not passed (the socket is untouched)."""
        with self._lock:
            self.stopped = True
            return not self._fired


def payload(delivery: Delivery, *, app_name: str) -> bytes:
    """What the service worker receives: that something happened, and where to look; for an
    alert to answer, the titles of its two actions in the member's language."""
    answerable = delivery.kind in ANSWERABLE_KINDS
    document: dict[str, Any] = {
        "v": 1,
        "title": app_name,
        "body": delivery.subject,
        "url": "/" + delivery.link.lstrip("/"),
        "tag": delivery.id,
        "kind": delivery.kind,
        "urgent": delivery.is_urgent,
        "answerable": answerable,
    }
    if answerable:
        language = delivery.locale or DEFAULT
        document["actions"] = [
            {"action": action, "title": in_language(title, language)} for action, title in ACTIONS
        ]
        document["said"] = {state: in_language(text, language) for state, text in SAID}
    return json.dumps(document, separators=(",", ":")).encode()


def padded(document: bytes) -> bytes:
    """The payload padded with trailing spaces (still JSON) to a multiple of PAD_BYTES, so its
    length tells the push service neither the member's language nor the kind of event."""
    size = -(-len(document) // PAD_BYTES) * PAD_BYTES
    return document.ljust(min(size, MAX_PLAINTEXT_BYTES), b" ")


def topic(delivery_id: str) -> str:
    """RFC 8030 Topic: at most 32 characters of the URL-safe base64 alphabet."""
    text = "".join(ch for ch in delivery_id if ch.isalnum() or ch in "-_")
    if 0 < len(text) <= 32:
        return text
    digest = base64.urlsafe_b64encode(delivery_id.encode()).rstrip(b"=").decode()
    return digest[-32:]


@dataclass
class VapidSigner:
    """Signs one VAPID token per push service origin and reuses it for an hour."""

    private_key: ec.EllipticCurvePrivateKey
    subject: str
    _vapid: Vapid02 = field(init=False, repr=False)
    _cache: dict[str, tuple[float, dict[str, str]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from py_vapid import Vapid02  # loaded by the first push, not by every process

        self._vapid = Vapid02(private_key=self.private_key)

    def headers(self, origin: str, now: float | None = None) -> dict[str, str]:
        """The Authorization header for a POST to `origin` (scheme://host[:port])."""
        now = time.time() if now is None else now
        cached = self._cache.get(origin)
        if cached is not None and now - cached[0] < VAPID_REUSE_SECONDS:
            return cached[1]
        claims = {"aud": origin, "exp": int(now) + VAPID_LIFETIME_SECONDS, "sub": self.subject}
        signed = {str(k): str(v) for k, v in self._vapid.sign(claims).items()}
        self._cache[origin] = (now, signed)
        return signed


def subject_of(contact: str, from_address: str) -> str:
    """The VAPID `sub` claim: the operator's contact (push.contact: mailto: or https:, or an
    e-mail address), else mailto: the Exchange's own sending address."""
    contact = contact.strip()
    if contact.startswith(("mailto:", "https:")):
        return contact
    address = parseaddr(contact if "@" in contact else from_address)[1]
    return "mailto:" + (address or "operator@invictm-exchange.invalid")


@dataclass
class PushSender:
    """Sends push messages; keeps one connection per push service for a batch (close() it)."""

    signer: VapidSigner
    app_name: str
    urgent_ttl: int
    normal_ttl: int
    timeout: float
    allow: addresses.AllowList
    _connections: dict[tuple[str, str, int], http.client.HTTPConnection] = field(
        default_factory=dict, repr=False
    )
    # Push services (scheme, host, port) that timed out in this round (this sender's batch):
    # their other rows wait for the next try instead of each waiting a timeout of its own.
    _timed_out: set[tuple[str, str, int]] = field(default_factory=set, repr=False)

    def send(self, delivery: Delivery, subscription: dict[str, Any]) -> Outcome:
        """Encrypt and POST one message. Never raises; never logs the endpoint or payload."""
        try:
            return self._send(delivery, subscription)
        except addresses.AddressRefused:
            log.warning("push delivery %s refused: its service address is not allowed", delivery.id)
            return Outcome(delivery.id, ok=False, error=NOT_DELIVERED, permanent=True)
        except Exception as error:  # noqa: BLE001 - one device must never stop the others
            log.warning("push delivery %s failed: %s", delivery.id, type(error).__name__)
            return Outcome(delivery.id, ok=False, error=NOT_DELIVERED)

    def _send(self, delivery: Delivery, subscription: dict[str, Any]) -> Outcome:
        endpoint = str(subscription["endpoint"])
        if addresses.problem(endpoint, self.allow):
            raise addresses.AddressRefused("invalid")
        parts, host, port = addresses.parse(endpoint)
        # pywebpush brings requests and aiohttp (16 MB): a process loads it when it pushes.
        from pywebpush import WebPusher

        try:
            encrypted = WebPusher(subscription).encode(
                padded(payload(delivery, app_name=self.app_name)), "aes128gcm"
            )
        except Exception as failure:  # noqa: BLE001 - the keys, not the network: never retried
            log.warning("push delivery %s not encrypted: %s", delivery.id, type(failure).__name__)
            return Outcome(delivery.id, ok=False, error=BAD_KEYS, permanent=True)
        body = bytes(encrypted["body"])
        origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "Content-Length": str(len(body)),
            "TTL": str(self.urgent_ttl if delivery.is_urgent else self.normal_ttl),
            "Urgency": "high" if delivery.is_urgent else "normal",
            "Topic": topic(delivery.id),
            # No User-Agent: one naming the product told the push service whose messages these are.
            **self.signer.headers(origin),
        }
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        status = self._post(parts.scheme, host, port, target, body, headers)
        if 200 <= status < 300:
            return Outcome(delivery.id, ok=True)
        if status in (404, 410):
            return Outcome(delivery.id, ok=False, error=GONE, cancelled=True)
        if status == 403:
            return Outcome(delivery.id, ok=False, error=REFUSED_KEY, permanent=True)
        error = f"push service answered HTTP {status}"
        permanent = 400 <= status < 500 and status != 429
        return Outcome(delivery.id, ok=False, error=error, permanent=permanent)

    def _post(
        self, scheme: str, host: str, port: int, target: str, body: bytes, headers: dict[str, str]
    ) -> int:
        key = (scheme, host, port)
        if key in self._timed_out:  # one timeout per origin per round, not one per device
            raise TimeoutError("push service timed out earlier in this round")
        # One deadline for the whole POST (connect, send, status, headers, the bounded body
        # read), on the monotonic clock: the socket timeout alone bounds each read, and a
        # service that drips a byte under it would hold the send - and every send after it.
        deadline = time.monotonic() + self.timeout
        try:
            return self._post_by(deadline, key, target, body, headers)
        except TimeoutError:
            self._timed_out.add(key)
            raise

    def _post_by(
        self,
        deadline: float,
        key: tuple[str, str, int],
        target: str,
        body: bytes,
        headers: dict[str, str],
    ) -> int:
        scheme, host, port = key
        for attempt in (1, 2):
            connection = self._connections.get(key)
            reused = connection is not None
            if connection is None:
                # Every address the host resolves to is checked; the connection goes to it.
                address = addresses.checked_address(host, port, self.allow)
                connection = addresses.pinned_connection(
                    scheme, host, port, address, _remaining(deadline)
                )
                self._connections[key] = connection
            watch = _Deadline(connection, deadline)
            try:
                if connection.sock is None:
                    connection.timeout = _remaining(deadline)
                    connection.connect()
                connection.sock.settimeout(_remaining(deadline))
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
                # A redirect (3xx) is not followed: it counts as a failure. The answer is read
                # up to a few KiB; a connection whose answer is not read to its end is not
                # used again (its next request would meet the rest of this answer, fail, and
                # be sent a second time).
                response.read(MAX_ANSWER_BYTES)
                finished = watch.stop()
                if not finished:
                    raise TimeoutError("push service answer past the deadline")
                if response.will_close or not response.isclosed():
                    self._drop(key)
                return response.status
            except (http.client.HTTPException, OSError) as error:
                finished = watch.stop()
                self._drop(key)
                if not finished or isinstance(error, TimeoutError):
                    raise TimeoutError("no answer from the push service in time") from None
                if not reused or attempt == 2:  # a kept connection the service closed: once more
                    raise
        raise AssertionError("unreachable")

    def _drop(self, key: tuple[str, str, int]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        """Close every kept connection."""
        for key in list(self._connections):
            self._drop(key)
