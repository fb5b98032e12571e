"""Device cookies (OWASP "Blocking Brute Force Attacks"): a browser that completed a sign-in gets
a long-lived, signed cookie bound to the member. Password attempts carrying a valid one are
counted per device, not per address, so strangers guessing at an address cannot lock its owner
out of a browser they used before. A password change revokes every device cookie of the member
(the cookie carries the time of the last change)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import Response, after_this_request, current_app, request
from itsdangerous import BadSignature

from forum.extensions import db
from forum.members.models import Member
from forum.members.services import find_member_by_email
from forum.security import cookies

COOKIE = "exchange_device"
SALT = "exchange.device-cookie"
LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class Device:
    """A valid device cookie: whose it is and its own random name (the counter's key)."""

    member_id: str
    nonce: str


def cookie_name() -> str:
    """`__Host-exchange_device` when served over https, else `exchange_device`."""
    settings = current_app.config["EXCHANGE"]
    return cookies.cookie_name(
        COOKIE, base_url=settings["app"]["base_url"], secure=settings["security"]["cookie_secure"]
    )


def _serializer() -> cookies.SealedSerializer:
    # Sealed like the session cookie: the browser cannot read whose device it is.
    return cookies.SealedSerializer(current_app.config["SECRET_KEY"], SALT)


def _generation(member: Member) -> int:
    changed = member.password_changed_at
    return int(changed.timestamp()) if changed is not None else 0


def current_device(member: Member | None = None) -> Device | None:
    """This browser's device cookie when it is valid (for `member`, if given), else None."""
    raw = request.cookies.get(cookie_name(), "")
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in "mn"):
        return None
    owner = member if member is not None else db.session.get(Member, data["m"])
    if owner is None or owner.id != data["m"] or data.get("g") != _generation(owner):
        return None
    return Device(member_id=owner.id, nonce=data["n"])


def device_for_address(address: str) -> Device | None:
    """The valid device cookie of this browser if it belongs to the member with this address."""
    if not request.cookies.get(cookie_name()) or not address.strip():
        return None
    member = find_member_by_email(address)
    return current_device(member) if member is not None else None


def remember_device(response: Response, member: Member) -> None:
    """Give this browser a (new) device cookie for the member, after a complete sign-in."""
    existing = current_device(member)
    nonce = existing.nonce if existing is not None else secrets.token_urlsafe(16)
    value = _serializer().dumps({"m": member.id, "n": nonce, "g": _generation(member)})
    response.set_cookie(
        cookie_name(),
        value,
        max_age=int(LIFETIME.total_seconds()),
        path="/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def remember_after_request(member: Member) -> None:
    """Set the member's device cookie on this request's response."""

    @after_this_request
    def _remember(response: Response) -> Response:
        remember_device(response, member)
        return response
