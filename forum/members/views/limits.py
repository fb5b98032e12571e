"""Rate-limit keys of the members' routes, and the audited lockout when a limit is reached."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request, session
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address

from forum.crypto import blind_index
from forum.db import keep_on_refusal
from forum.errors import refusal
from forum.members import auth, devices
from forum.members.views.client import ip_prefix

PENDING_MEMBER = "pending_member"
INVITE_TOKEN = "invite_token"  # noqa: S105 - a session key name, not a secret
RESET_TOKEN = "reset_token"  # noqa: S105 - a session key name, not a secret

SIGN_IN_LIMITS = "6 per minute;30 per hour"
SIGN_IN_IP_LIMITS = "30 per minute;300 per hour"
SECOND_FACTOR_LIMITS = "5 per 5 minutes"
F = TypeVar("F", bound=Callable[..., Any])


def address_key() -> str:
    """The sign-in limit's key: this browser's device cookie for the address, else the address."""
    # A browser with a valid device cookie for this address counts on its own (OWASP device
    # cookies): strangers guessing at the address cannot lock its owner out of that browser.
    address = request.form.get("email", "")
    device = devices.device_for_address(address)
    if device is not None:
        return "sign-in-device:" + device.nonce
    # The normalised address's blind index: the limiter's storage never holds an address.
    return "sign-in-address:" + blind_index("ratelimit.sign-in", address, length=16).hex()


def invite_key() -> str:
    """The join limit's key: the invitation being redeemed, else the client address."""
    token = session.get(INVITE_TOKEN)
    if isinstance(token, str):
        return "join-code:" + blind_index("ratelimit.join", token, length=16).hex()
    return "join-code-ip:" + get_remote_address()


def second_factor_key() -> str:
    """The second step's key: the member who passed the password step."""
    pending = session.get(PENDING_MEMBER)
    return "second-factor:" + (pending if isinstance(pending, str) else get_remote_address())


def forgot_key() -> str:
    """The reset-request limit's key: the address asked for."""
    address = request.form.get("email", "")
    return "forgot:" + blind_index("ratelimit.forgot", address, length=16).hex()


def reset_key() -> str:
    """The reset limit's key: the reset link in use, else the client address."""
    token = session.get(RESET_TOKEN)
    if isinstance(token, str):
        return "reset:" + blind_index("ratelimit.reset", token, length=16).hex()
    return "reset-ip:" + get_remote_address()


class _Once:
    """Remembers, per process, which lockouts were audited lately: a flood of refused attempts
    writes one audit event a minute per key, not one per request (the log stays readable and
    the flood cannot grow it without bound)."""

    def __init__(self, seconds: float = 60.0, size: int = 10_000) -> None:
        self.seconds, self.size = seconds, size
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def first(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            if now - self.seen.get(key, -self.seconds) < self.seconds:
                return False
            if len(self.seen) >= self.size:
                self.seen = {k: t for k, t in self.seen.items() if now - t < self.seconds}
            self.seen[key] = now
            return True


def _lockouts() -> _Once:
    once: _Once = current_app.extensions.setdefault("exchange.members.lockouts", _Once())
    return once


def locked_out(scope: str) -> Callable[[RequestLimit], None]:
    """The limiter's on_breach: audit the lockout (once a minute per key)."""

    def on_breach(limit: RequestLimit) -> None:
        if not _lockouts().first(f"{scope}:{'/'.join(map(str, limit.request_args))}"):
            return
        member_id = session.get(PENDING_MEMBER) if scope == "second_factor" else None
        auth.record_rate_limited(scope, member_id=member_id, ip_prefix=ip_prefix())
        # The 429 that follows is a refusal whose audit must stand (forum.errors commits it).
        keep_on_refusal()

    return on_breach


def counted_once(limit: Callable[[F], F]) -> Callable[[F], F]:
    """A rate limit that counts a request once, even when the app runs its view a second time
    to show a refused form again (forum.errors); without this the refusal would count twice."""

    def decorate(view: F) -> F:
        limited = limit(view)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if refusal() is not None:
                return view(*args, **kwargs)
            return limited(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
