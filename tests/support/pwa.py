"""Push subscriptions as a browser's PushSubscription.toJSON() gives them, with real keys."""

from __future__ import annotations

import base64
import secrets
import time
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


WAIT_S = 10.0  # a bound for the test, not a timing assertion

NOTIFICATIONS = """() => navigator.serviceWorker.ready.then(function (registration) {
  return registration.getNotifications();
}).then(function (list) {
  return list.map(function (n) {
    return { title: n.title, body: n.body, tag: n.tag, data: n.data,
             requireInteraction: n.requireInteraction,
             actions: n.actions.map(function (a) { return [a.action, a.title]; }) };
  });
})"""

STORED_CREDENTIAL = """() => new Promise(function (resolve, reject) {
  var opening = indexedDB.open("exchange", 1);
  opening.onsuccess = function () {
    var reading = opening.result.transaction("device").objectStore("device").get("credential");
    reading.onsuccess = function () { resolve(reading.result || null); };
    reading.onerror = function () { reject(reading.error); };
  };
  opening.onerror = function () { reject(opening.error); };
})"""

SUBSCRIBE_STAND_IN = """(() => {
  var subscription = %s;
  PushManager.prototype.getSubscription = function () { return Promise.resolve(null); };
  PushManager.prototype.subscribe = function (options) {
    if (!options || options.userVisibleOnly !== true || !options.applicationServerKey) {
      return Promise.reject(new Error("subscribe called without the server key"));
    }
    window.__subscribedWith = Array.from(new Uint8Array(options.applicationServerKey));
    return Promise.resolve({
      endpoint: subscription.endpoint,
      toJSON: function () { return subscription; }
    });
  };
})();"""

# The worker's own click handler, run with a stand-in for the event a tap on the action gives.
TAP_ACTION = """([url, action]) => new Promise(function (resolve) {
  onNotificationClick({
    action: action,
    notification: { data: { url: url, answerable: true }, close: function () {} },
    waitUntil: function (promise) { resolve(promise.then(function () { return "done"; })); }
  });
})"""


def registration_id(cdp: Any, origin: str) -> str:
    """The id DevTools knows the origin's service worker registration by."""
    found: list[str] = []

    def on_update(event: dict[str, Any]) -> None:
        for registration in event["registrations"]:
            if (
                registration["scopeURL"] == origin.rstrip("/") + "/"
                and not registration["isDeleted"]
            ):
                found.append(registration["registrationId"])

    cdp.on("ServiceWorker.workerRegistrationUpdated", on_update)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + WAIT_S
    while not found and time.monotonic() < deadline:
        cdp.send("Runtime.evaluate", {"expression": "1"})  # let events arrive
    assert found, "the worker's registration is reported"
    return found[-1]


def notifications(page: Any) -> list[dict[str, Any]]:
    """The notifications the page's worker shows (waits a bounded while for the first)."""
    deadline = time.monotonic() + WAIT_S
    shown: list[dict[str, Any]] = page.evaluate(NOTIFICATIONS)
    while not shown and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = page.evaluate(NOTIFICATIONS)
    return shown
