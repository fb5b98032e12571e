"""A real push service on loopback for the tests: an RFC 8030 receiver that sees what FCM or
Mozilla's autopush would see.

It checks every message the way a push service does — the VAPID JWT (RFC 8292) is verified with
the public key the test expects (ES256, `aud` = this service's origin, `exp` within 24 hours,
a `sub` contact) — and then, as the device would, decrypts the aes128gcm body (RFC 8188 records,
RFC 8291 key derivation) with the device's private key. The decryption here is written from the
RFCs with `cryptography`'s primitives; it does not use http_ece or pywebpush (the libraries
that wrote the message), so a mistake there cannot hide itself.

    with PushService() as service:
        device = service.device()          # a browser's subscription: endpoint + keys
        ... the Exchange sends ...
        service.messages_for(device)       # [Received(payload=dict, headers=..., ...)]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


class Refused(Exception):
    """What the push service would refuse the message for (the test sees the reason)."""


@dataclass
class Device:
    """A browser's push subscription: its endpoint, and the keys only the device holds."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def path(self) -> str:
        return "/" + self.endpoint.split("/", 3)[3]

    def subscription(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": b64url(_point(self.private_key.public_key())),
                "auth": b64url(self.auth),
            },
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 §3.4 key derivation and RFC 8188 aes128gcm records, from the RFCs."""
        if len(body) < 21:
            raise Refused("body shorter than an aes128gcm header")
        salt, record_size, id_length = body[:16], struct.unpack(">I", body[16:20])[0], body[20]
        sender_point = body[21 : 21 + id_length]
        ciphertext = body[21 + id_length :]
        if id_length != 65 or record_size < 18:
            raise Refused("aes128gcm header: keyid must be the sender's P-256 point")
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
        shared = self.private_key.exchange(ec.ECDH(), sender)
        key_info = b"WebPush: info\x00" + _point(self.private_key.public_key()) + sender_point
        ikm = _hmac(_hmac(self.auth, shared), key_info + b"\x01")
        prk = _hmac(salt, ikm)
        cek = _hmac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
        nonce = _hmac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
        plain = b""
        records = [ciphertext[i : i + record_size] for i in range(0, len(ciphertext), record_size)]
        for sequence, record in enumerate(records):
            iv = (int.from_bytes(nonce, "big") ^ sequence).to_bytes(12, "big")
            opened = AESGCM(cek).decrypt(iv, record, None).rstrip(b"\x00")
            last = sequence == len(records) - 1
            if not opened or opened[-1] != (2 if last else 1):
                raise Refused("aes128gcm record padding delimiter is wrong")
            plain += opened[:-1]
        return plain


@dataclass
class Received:
    """One message the service accepted, as the device decrypted it."""

    path: str
    headers: dict[str, str]
    body: bytes
    plaintext: bytes
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.plaintext)
        return document


@dataclass
class PushService:
    """A threaded HTTP/1.1 push service on 127.0.0.1 (keep-alive, as real ones are)."""

    vapid_public_key: str | None = None  # b64url point the Exchange publishes; None: any key
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    # path -> status to answer (410 for a device that unsubscribed; 503 for an outage).
    answers: dict[str, int] = field(default_factory=dict)
    status_for_all: int | None = None
    devices: dict[str, Device] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> PushService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = service._receive(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                if status == 201:
                    self.send_header("Location", f"{service.origin}/m/{secrets.token_hex(8)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def device(self) -> Device:
        """A new browser subscription on this service (the keys stay with the test)."""
        device = Device(
            endpoint=f"{self.origin}/push/{secrets.token_urlsafe(24)}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth=secrets.token_bytes(16),
        )
        self.devices[device.path] = device
        return device

    def messages_for(self, device: Device) -> list[Received]:
        with self.lock:
            return [m for m in self.received if m.path == device.path]

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            if self.status_for_all is not None:
                return self.status_for_all
            if path in self.answers:
                return self.answers[path]
            device = self.devices.get(path)
            if device is None:
                return 404
            self._check_vapid(lowered)
            if lowered.get("content-encoding") != "aes128gcm":
                raise Refused("Content-Encoding must be aes128gcm")
            if "ttl" not in lowered or not lowered["ttl"].isdigit():
                raise Refused("TTL header is required (RFC 8030 §5.2)")
            plaintext = device.decrypt(body)
        except Refused as reason:
            with self.lock:
                self.refused.append((path, str(reason)))
            return 400
        with self.lock:
            self.received.append(Received(path, lowered, body, plaintext, time.time()))
        return 201

    def _check_vapid(self, headers: dict[str, str]) -> None:
        """RFC 8292 §3: `Authorization: vapid t=<JWT>, k=<public key>`; ES256 over the JWT."""
        scheme, _, params = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "vapid":
            raise Refused("no VAPID authorization")
        values = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        token, key = values.get("t", ""), values.get("k", "")
        if self.vapid_public_key is not None and key != self.vapid_public_key:
            raise Refused("VAPID key is not the one the subscription was made with")
        try:
            header_b64, claims_b64, signature_b64 = token.split(".")
            header = json.loads(b64url_decode(header_b64))
            claims = json.loads(b64url_decode(claims_b64))
            signature = b64url_decode(signature_b64)
            public = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b64url_decode(key)
            )
        except (ValueError, TypeError) as error:
            raise Refused(f"VAPID token unreadable: {type(error).__name__}") from None
        if header.get("alg") != "ES256" or len(signature) != 64:
            raise Refused("VAPID token must be ES256 with a raw 64-byte signature")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise Refused("VAPID signature does not verify") from None
        if claims.get("aud") != self.origin:
            raise Refused("VAPID aud is not this push service's origin")
        if not 0 < int(claims.get("exp", 0)) - time.time() <= 24 * 3600:
            raise Refused("VAPID exp must be within 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise Refused("VAPID sub must be a mailto: or https: contact")
