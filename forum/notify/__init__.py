"""Notify: in-app notifications, the outbox and its dispatcher, webhooks and the live channel.

Platform code: it imports no feature. What it needs from members is handed at start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from forum.notify import recipients
from forum.notify.recipients import AddressResolver, OrganisationLister
from forum.security import reauth

SESSION_REF_KEY = "exchange.current_session_ref"
SessionRefResolver = Callable[[], str | None]


def _no_session() -> str | None:
    return None


def init_app(
    app: Flask,
    *,
    addresses: AddressResolver,
    organisations: OrganisationLister,
    reauth_required_on_post: Callable[[str], Callable[[Any], Any]],
    current_session_ref: SessionRefResolver = _no_session,
) -> None:
    """Hand notify what it needs from the members feature (called once by create_app).

    `current_session_ref()` names this request's sign-in (the members' session id): a device's
    push subscription is tied to it and ends when that sign-in ends.
    """
    recipients.init_app(app, addresses=addresses, organisations=organisations)
    reauth.init_app(app, guard=reauth_required_on_post)
    app.extensions[SESSION_REF_KEY] = current_session_ref


def current_session_ref() -> str | None:
    """The id of this request's sign-in, from the resolver members handed over (None: unknown)."""
    resolver: SessionRefResolver = current_app.extensions.get(SESSION_REF_KEY, _no_session)
    return resolver()
