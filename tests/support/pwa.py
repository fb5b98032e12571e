"""Push subscriptions as a browser's PushSubscription.toJSON() gives them, with real keys."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# An endpoint of a browser push service the Exchange sends to by default (never contacted here).
FCM_ENDPOINT = "https://fcm.googleapis.com/fcm/send/"


def b64url(raw: bytes) -> str:
    """Base64url without padding, as browsers write subscription keys."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def browser_subscription(endpoint: str | None = None) -> dict[str, Any]:
    """A subscription with a fresh P-256 key (p256dh, 65 bytes) and auth secret (16 bytes)."""
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {
        "endpoint": endpoint or FCM_ENDPOINT + secrets.token_urlsafe(24),
        "expirationTime": None,
        "keys": {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))},
    }
