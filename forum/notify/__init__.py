"""Notify: in-app notifications, the outbox and its dispatcher, webhooks and the live channel.

Platform code: it imports no feature. What it needs from members is handed at start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from forum.notify import recipients
from forum.notify.recipients import AddressResolver, OrganisationLister
from forum.security import reauth


def init_app(
    app: Flask,
    *,
    addresses: AddressResolver,
    organisations: OrganisationLister,
    reauth_required_on_post: Callable[[str], Callable[[Any], Any]],
) -> None:
    """Hand notify what it needs from the members feature (called once by create_app)."""
    recipients.init_app(app, addresses=addresses, organisations=organisations)
    reauth.init_app(app, guard=reauth_required_on_post)
