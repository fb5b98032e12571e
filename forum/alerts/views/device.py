"""Answers from the notification itself: the "Seen" / "I can help" actions of a push.

The service worker has no session cookie to send (and must not need one: the member may be
signed out on that phone's browser, or the tap may come from a lock screen). It sends the answer
credential its device was given when it subscribed (`Authorization: Bearer …`). The credential
is scoped to one member, to answering alerts that member is in the audience of, and to nothing
else: this route is the only one that reads it, and it answers with no content. It ends with the
subscription (sign-out on that device, removal, suspension, a push service's 410).

No CSRF token: nothing here rides on ambient authority (no cookie is read), so a cross-site
form cannot act for anyone; the bearer token is the proof.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from flask import current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from forum.alerts import services
from forum.alerts.core import AlertError
from forum.alerts.views import bp
from forum.db import utcnow
from forum.extensions import csrf, limiter
from forum.forms import json_body
from forum.members import services as members_services
from forum.notify import subscriptions

# The notification's actions; the other answers need the alert page (they ask for more).
DEVICE_ANSWERS = frozenset(services.DEVICE_ANSWERS)
_OWNER_KEY = "exchange.device_owner"


def _bearer() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _credential_key() -> str:
    """Rate-limit bucket: the credential (hashed: the limiter's storage must not hold it)."""
    return "device-answer:" + hashlib.sha256(_bearer().encode()).hexdigest()[:32]


def _per_credential() -> str:
    return f"{current_app.config['EXCHANGE']['push']['answers_per_hour']} per hour"


def _unauthorised() -> tuple[Response, int]:
    response = jsonify(ok=False, error=_("This device can no longer answer; open the Exchange."))
    response.headers["WWW-Authenticate"] = 'Bearer realm="device-answer"'
    return response, 401


def _owner() -> subscriptions.Credential | None:
    """The live device this request's credential belongs to (looked up once per request)."""
    # Kept on the request itself (not `g`, which an app context may carry across requests).
    if _OWNER_KEY not in request.environ:
        request.environ[_OWNER_KEY] = subscriptions.credential_owner(_bearer())
    owner: subscriptions.Credential | None = request.environ[_OWNER_KEY]
    return owner


def _tapped_at(document: dict[str, object]) -> datetime | None:
    """When a tap that waited for a connection was made (seconds since 1970, from the phone's
    clock); None when absent or not believable (in the future, or older than two days)."""
    value = document.get("tapped_at")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    now = utcnow()
    try:
        at = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return at if now - timedelta(days=2) <= at <= now + timedelta(minutes=5) else None


@bp.post("/<alert_id>/device-answer")
@csrf.exempt
# Per address, only requests with no live credential count, and a live one is never held back:
# behind a TLS proxy every phone shares one address, and junk must not block real answers.
@limiter.limit(
    "600 per minute",
    exempt_when=lambda: _owner() is not None,
    deduct_when=lambda response: response.status_code == 401,
)
@limiter.limit(_per_credential, key_func=_credential_key)
def device_answer(alert_id: str) -> tuple[Response, int] | Response:
    """Record the member's one-tap answer sent by their device's service worker."""
    owner = _owner()
    if owner is None:
        return _unauthorised()
    member = members_services.get_member(owner.member_id)
    if member is None or not member.is_active_member:
        return _unauthorised()
    document = json_body()
    answer = document.get("answer") if isinstance(document, dict) else None
    if not isinstance(answer, str) or answer not in DEVICE_ANSWERS:  # a list is unhashable
        return jsonify(ok=False, error=_("Please choose Seen or I can help.")), 400
    try:
        services.answer_from_device(member, alert_id, answer, tapped_at=_tapped_at(document))
    except AlertError as refused:  # closed, or the member raised it
        return jsonify(ok=False, error=refused.message), 409
    # AlertNotFound (not in the audience, or no such alert) is the byte-identical 404 page.
    current_app.logger.info("alert %s answered from device %s", alert_id, owner.subscription_id)
    return Response(status=204)
