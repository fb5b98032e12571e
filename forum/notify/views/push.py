"""A member's devices and Web Push: the server key, subscribing this browser, removing a device.

The subscribe answer is JSON for static/pwa.js: 201 with the device's answer credential (shown
once; only its hash is kept), or 400 with a sentence the page shows as it is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, flash, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from wtforms import HiddenField

from forum import notify
from forum.errors import Invalid
from forum.extensions import limiter
from forum.forms import EmptyForm, json_body
from forum.notify import services, subscriptions
from forum.notify.views import bp
from forum.templating import url_if

# A browser subscribes once per sign-in; a few more cover retries and a second browser.
SUBSCRIBE_LIMITS = "10 per hour;30 per day"


def _member_key() -> str:
    if current_user.is_authenticated:
        return f"push-subscribe:{current_user.id}"
    return f"push-subscribe-ip:{get_remote_address()}"


class RemoveDeviceForm(EmptyForm):
    """One button, and where to go back to (a path on this site)."""

    next = HiddenField()


@dataclass(frozen=True)
class Device:
    """A live device as the member's list shows it (never its endpoint or keys)."""

    id: str
    label: str
    added_at: datetime
    last_delivery_at: datetime | None
    is_this_sign_in: bool


def _push_devices() -> list[Device]:
    if not current_user.is_authenticated:
        return []
    here = notify.current_session_ref()
    return [
        Device(
            id=row.id,
            label=row.device_label or _("Browser"),
            added_at=row.created_at,
            last_delivery_at=row.last_delivery_at,
            is_this_sign_in=here is not None and row.session_ref == here,
        )
        for row in subscriptions.live_subscriptions(current_user.id)
    ]


@bp.app_context_processor
def _devices() -> dict[str, Any]:
    """For the device switch: `push_available()` (push is on here) and `push_devices()` (the
    member's live devices), each read only if a page shows the switch."""
    return {
        "push_available": _push_available,
        "push_devices": _push_devices,
        "push_sign_in": _push_sign_in,
    }


def _push_sign_in() -> str:
    """A digest naming this sign-in for static/pwa.js (empty: signed out or push off), so a
    device with notifications already on is bound again to a new sign-in."""
    here = notify.current_session_ref() if current_user.is_authenticated else None
    if here is None or not _push_available():
        return ""

    def digest(kind: str, value: str) -> str:
        return hashlib.sha256(f"push-{kind}:{value}".encode()).hexdigest()[:16]

    # "<member>.<sign-in>": the page re-binds a device only for the member who turned it on.
    return f"{digest('member', current_user.id)}.{digest('sign-in', here)}"


def _push_available() -> bool:
    return subscriptions.vapid_public_key() is not None


@bp.get("/push/key")
@login_required
def push_key() -> ResponseReturnValue:
    """The applicationServerKey this browser subscribes with (404: push is off here)."""
    key = subscriptions.vapid_public_key()
    if key is None:
        abort(404)
    return jsonify(key=key)


@bp.post("/push/subscribe")
@login_required
@limiter.limit(SUBSCRIBE_LIMITS, key_func=_member_key)
def push_subscribe() -> ResponseReturnValue:
    """Register this browser's push subscription for the member; 201 with its credential."""
    try:
        subscribed = subscriptions.subscribe(
            current_user,
            json_body(),
            session_ref=notify.current_session_ref(),
            user_agent=request.user_agent.string,
        )
    except Invalid as error:
        # A JSON answer the page shows as it is (the 400 rolls the request back).
        return jsonify(error=error.message), 400
    return jsonify(id=subscribed.subscription.id, credential=subscribed.credential), 201


@bp.post("/push/<subscription_id>/remove")
@login_required
def push_remove(subscription_id: str) -> ResponseReturnValue:
    """Remove one of the member's devices; it gets no more notifications."""
    form = RemoveDeviceForm()
    if not form.validate_on_submit():
        abort(400)
    subscriptions.remove(current_user, subscription_id)
    flash(_("Device removed."))
    fallback = url_if("members.sessions") or url_if("notify.index") or "/"
    back = services.safe_link(form.next.data) if form.next.data else fallback
    return redirect(back)


@bp.post("/push/release")
@login_required
@limiter.limit(SUBSCRIBE_LIMITS, key_func=_member_key)
def push_release() -> ResponseReturnValue:
    """This browser's device belongs to the member who signed in here before: end it (pwa.js
    sends its endpoint when another member signs in; the page's CSRF token goes with it)."""
    try:
        released = subscriptions.release(current_user, request.get_json(silent=True))
    except Invalid as error:
        return jsonify(error=error.message), 400
    return jsonify(released=released), 200
