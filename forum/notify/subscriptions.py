"""Members' devices that receive Web Push: subscribing, listing, ending, and answer credentials.

A browser's Push API subscription (endpoint + RFC 8291 keys) is sealed under a data key of its
own, shredded when the subscription ends, so a stolen database names no device and a backup made
after the end cannot be opened for it. The endpoint must belong to one of the browsers' push
services (push.service_hosts, over https on port 443 only) or an allowed internal one
(push.allow_hosts, any port): a member cannot make the Exchange post to an address of their
choosing, nor to a silent port of a push service's host.

When a device subscribes it gets an answer credential (a random token; only its SHA-256 is
stored). With it the service worker answers alerts from a notification without a full sign-in.
The credential belongs to one subscription: it ends with it (sign-out of that device, a removal,
suspension or erasure of the member, or the push service saying 404/410).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from forum.crypto import envelope
from forum.crypto.blind_index import blind_index
from forum.db import utcnow
from forum.errors import Invalid, NotFound
from forum.extensions import db
from forum.lazytext import lazy_gettext as _l
from forum.notify.channels import addresses
from forum.notify.models import PushSubscription
from forum.notify.recipients import Recipient
from forum.security import audit

CREDENTIAL_BYTES = 32
MAX_LIVE_PER_MEMBER = 10
_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")
REFUSED_SERVICE = _l("This browser's push service is not one the Exchange sends to.")


def _settings() -> dict[str, Any]:
    settings: dict[str, Any] = current_app.config["EXCHANGE"]["push"]
    return settings


def allow_list() -> addresses.AllowList:
    """Internal or test push services (push.allow_hosts)."""
    return addresses.AllowList.parse(_settings()["allow_hosts"])


def vapid_private_key() -> ec.EllipticCurvePrivateKey | None:
    """The VAPID signing key from the keyring (None: push is not available)."""
    raw = envelope.keyring().vapid_key
    if not raw or not _settings()["enabled"]:
        return None
    key = serialization.load_der_private_key(raw, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def vapid_public_key() -> str | None:
    """The applicationServerKey a browser subscribes with: the uncompressed P-256 point,
    base64url without padding (None: push is not available)."""
    key = vapid_private_key()
    if key is None:
        return None
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _service_of(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def _known_service(host: str) -> bool:
    host = host.lower().rstrip(".")
    for entry in re.split(r"[,\s]+", _settings()["service_hosts"].strip().lower()):
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def endpoint_problem(endpoint: str) -> str | None:
    """Why a push endpoint is refused, in a plain sentence (None: it is one we send to)."""
    allow = allow_list()
    problem = addresses.problem(endpoint, allow)
    if problem is not None:
        return str(REFUSED_SERVICE)
    parts, host, port = addresses.parse(endpoint)
    host = host.lower()
    if allow.allows(host, addresses.literal(host)):  # an internal or test service: any port
        return None
    # The browsers' push services listen on https and 443 only: another port on their host
    # is a black hole (SYN dropped) each send would wait its whole timeout on.
    if not _known_service(host) or parts.scheme != "https" or port != 443:
        return str(REFUSED_SERVICE)
    return None


def _key_field(keys: Mapping[str, Any], name: str, length: int) -> bytes:
    value = keys.get(name)
    if not isinstance(value, str) or not _B64URL.match(value):
        raise Invalid(_("The browser sent a push subscription that is not complete."))
    try:  # "A", "AAAAA", "A==": the right letters, yet no base64 at all
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise Invalid(_("The browser sent a push subscription that is not complete.")) from None
    if len(raw) != length:
        raise Invalid(_("The browser sent a push subscription that is not complete."))
    return raw


def _public_point(raw: bytes) -> None:
    """The p256dh key must be a point on P-256: else every message to it fails to encrypt."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise Invalid(_("The browser sent a push subscription that is not complete.")) from None


def parse_subscription(data: Any) -> dict[str, Any]:
    """A browser's PushSubscription.toJSON(), checked: endpoint, p256dh (65 bytes), auth (16)."""
    if not isinstance(data, Mapping):
        raise Invalid(_("The browser sent a push subscription that is not complete."))
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str) or not isinstance(keys, Mapping):
        raise Invalid(_("The browser sent a push subscription that is not complete."))
    problem = endpoint_problem(endpoint.strip())
    if problem is not None:
        raise Invalid(problem)
    p256dh = _key_field(keys, "p256dh", 65)
    _public_point(p256dh)
    _key_field(keys, "auth", 16)
    return {
        "endpoint": endpoint.strip(),
        "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]},
    }


def device_label(user_agent: str) -> str:
    """A short, recognisable name for a device from its user agent ("Chrome on Android")."""
    agent = user_agent or ""
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
            )
            if token in agent
        ),
        _("Browser"),
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("Linux", "Linux"),
            )
            if token in agent
        ),
        "",
    )
    # Stored as it is said now: the member names their own device in their own language.
    return _("%(browser)s on %(system)s", browser=browser, system=system) if system else browser


@dataclass(frozen=True)
class Subscribed:
    """A new (or renewed) subscription and the answer credential its device keeps."""

    subscription: PushSubscription
    credential: str


def subscribe(
    member: Recipient, data: Any, *, session_ref: str | None, user_agent: str = ""
) -> Subscribed:
    """Register (or renew) a device of the member; Invalid with a plain sentence when refused."""
    if vapid_private_key() is None:
        raise Invalid(_("Push notifications are not available on this Exchange."))
    checked = parse_subscription(data)
    index = blind_index("push.endpoint", checked["endpoint"])
    existing = db.session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint_index == index)
    )
    if existing is not None:  # the same device again (or another member on it): start afresh
        if existing.member_id != member.id:  # the browser now belongs to this member's sign-in
            audit.record(
                "push.taken_over",
                actor=member,
                target_type="push_subscription",
                target_id=existing.id,
            )
        _end([existing], "renewed")
        db.session.delete(existing)
        db.session.flush()
    live = live_subscriptions(member.id)
    if len(live) >= MAX_LIVE_PER_MEMBER:
        _end(live[MAX_LIVE_PER_MEMBER - 1 :], "replaced")
    key = envelope.new_data_key("push_subscription")
    credential = secrets.token_urlsafe(CREDENTIAL_BYTES)
    row = PushSubscription(
        member_id=member.id,
        dek_id=key.id,
        session_ref=session_ref,
        endpoint_index=index,
        service=_service_of(checked["endpoint"]),
        device_label=device_label(user_agent),
        credential_hash=_digest(credential),
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    row.seal("subscription", json.dumps(checked, separators=(",", ":")))
    audit.record(
        "push.subscribed",
        actor=member,
        target_type="push_subscription",
        target_id=row.id,
        service=row.service,
    )
    return Subscribed(row, credential)


def subscription_info(row: PushSubscription) -> dict[str, Any]:
    """The opened subscription (endpoint and keys) to send to."""
    info: dict[str, Any] = json.loads(row.open("subscription"))
    return info


def live_subscriptions(member_id: str) -> list[PushSubscription]:
    """A member's live devices, newest first."""
    return list(
        db.session.scalars(
            select(PushSubscription)
            .where(PushSubscription.member_id == member_id, PushSubscription.ended_at.is_(None))
            .order_by(PushSubscription.created_at.desc())
        )
    )


def live_ids_by_member(member_ids: Iterable[str]) -> dict[str, list[str]]:
    """The live subscription ids of each of these members (one query per 500 members)."""
    ids = list(dict.fromkeys(member_ids))
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(PushSubscription.member_id, PushSubscription.id).where(
                PushSubscription.member_id.in_(ids[start : start + 500]),
                PushSubscription.ended_at.is_(None),
            )
        )
        for member_id, subscription_id in rows:
            found.setdefault(member_id, []).append(subscription_id)
    return found


def _end(rows: Iterable[PushSubscription], reason: str) -> int:
    """End subscriptions: shred their keys (endpoint and push keys become unreadable)."""
    count = 0
    now = utcnow()
    keys: set[str] = set()
    for row in rows:
        if row.ended_at is not None:
            continue
        row.ended_at, row.end_reason = now, reason
        row.credential_hash = "ended:" + row.id  # unique, and no token hashes to it
        if row.dek_id:
            keys.add(row.dek_id)
        count += 1
    envelope.shred_ids(keys)
    db.session.flush()
    return count


def remove(member: Recipient, subscription_id: str) -> PushSubscription:
    """The member removes one of their own devices (anyone else's is 'not found')."""
    row = db.session.get(PushSubscription, subscription_id)
    if row is None or row.member_id != member.id or row.ended_at is not None:
        raise NotFound(_("There is no such device."))
    _end([row], "removed")
    audit.record("push.removed", actor=member, target_type="push_subscription", target_id=row.id)
    return row


def release(member: Recipient, data: Any) -> bool:
    """Another member signed in on a browser whose device is someone else's: end that device.

    Holding the endpoint is what proves it is that browser (it is a secret the push service
    gave this browser alone, and sealed here). A shared computer left signed in until its
    session lapsed kept the previous member's notifications and live answer credential; the
    next member's sign-in ends them. True when a device was ended.
    """
    endpoint = data.get("endpoint") if isinstance(data, Mapping) else None
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= 2048:  # endpoints are short
        raise Invalid(_("The browser sent a push subscription that is not complete."))
    index = blind_index("push.endpoint", endpoint.strip())
    row = db.session.scalar(
        select(PushSubscription).where(
            PushSubscription.endpoint_index == index, PushSubscription.ended_at.is_(None)
        )
    )
    if row is None or row.member_id == member.id:
        return False
    _end([row], "released")
    audit.record("push.released", actor=member, target_type="push_subscription", target_id=row.id)
    return True


def end_for_sessions(session_refs: Iterable[str], reason: str) -> int:
    """End the subscriptions of devices whose sign-in ended (sign-out, sign out everywhere)."""
    refs = list(session_refs)
    if not refs:
        return 0
    rows = db.session.scalars(
        select(PushSubscription).where(
            PushSubscription.session_ref.in_(refs), PushSubscription.ended_at.is_(None)
        )
    )
    return _end(rows, reason)


def end_for_member(member_id: str, reason: str, keep_session: str | None = None) -> int:
    """End every subscription of a member (suspended, erased), or every one but those made in
    the sign-in `keep_session` (signed out everywhere else: a device whose sign-in had already
    timed out ends too)."""
    rows = live_subscriptions(member_id)
    if keep_session is not None:
        rows = [row for row in rows if row.session_ref != keep_session]
    return _end(rows, reason)


def end_gone(subscription_id: str) -> None:
    """The push service said the subscription is gone (404/410): end it."""
    row = db.session.get(PushSubscription, subscription_id)
    if row is not None:
        _end([row], "gone")


def mark_delivered(subscription_ids: Iterable[str]) -> None:
    """Note when each device last had a message accepted for it (for the member's list)."""
    ids = list(set(subscription_ids))
    if ids:
        db.session.execute(
            update(PushSubscription)
            .where(PushSubscription.id.in_(ids))
            .values(last_delivery_at=utcnow())
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class Credential:
    """Whose device an answer credential belongs to."""

    member_id: str
    subscription_id: str


def credential_owner(token: str) -> Credential | None:
    """The live subscription an answer credential belongs to (None: unknown or ended)."""
    if not token or len(token) > 100 or not _B64URL.match(token):
        return None
    row = db.session.scalar(
        select(PushSubscription).where(
            PushSubscription.credential_hash == _digest(token),
            PushSubscription.ended_at.is_(None),
        )
    )
    return Credential(row.member_id, row.id) if row is not None else None
