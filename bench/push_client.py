"""The phone's side of Web Push, in Debian's Chromium: how long the Exchange's service worker
takes to show a pushed alert, and how long a tap on "I can help" takes to reach the board.

Figures (each against a baseline measured in the same run, same browser):
1. push delivered to the worker (DevTools `ServiceWorker.deliverPushMessage`) -> notification
   shown (`registration.getNotifications()` lists it), vs the same for a bare worker whose push
   handler only calls showNotification, on a page of its own origin;
   (the bare worker shows the same icon, so both load one);
2. tap on the notification's "I can help" (the worker's own click handler, given the event a tap
   gives) -> the answer committed on the board, vs the in-page one-tap answer of the banner (a
   signed-in fetch with the page's CSRF token) -> the answer committed.

Medians of ROUNDS rounds each; bounded in count and time; everything on 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402
from werkzeug.wrappers import Request, Response  # noqa: E402

from bench._common import free_port, prepare_instance, session_cookie  # noqa: E402
from bench.figures import figure  # noqa: E402
from forum.alerts.models import AlertAnswer  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.members.passwords import hash_password  # noqa: E402
from forum.notify import subscriptions  # noqa: E402
from tests.alerts.bulk import bulk_members  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, CHROMIUM_PATH  # noqa: E402
from tests.support.alerts import raise_alert  # noqa: E402
from tests.support.pwa import NOTIFICATIONS, TAP_ACTION, browser_subscription, registration_id  # noqa: E402

ROUNDS = 30
# The same icon the Exchange's notifications carry, so both workers load one.
ICON = Path(__file__).resolve().parent.parent / "static" / "icons" / "icon-192.png"
WAIT_S = 10.0

BARE_PAGE = b"""<!doctype html><title>bare</title><script src="/register.js"></script>"""
BARE_REGISTER = b"navigator.serviceWorker.register('/sw.js');"
BARE_WORKER = b"""self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener('push', function (e) {
  var data = e.data.json();
  e.waitUntil(self.registration.showNotification(data.title,
    {body: data.body, tag: data.tag, icon: "/icon.png", badge: "/icon.png"}));
});"""

STORE_CREDENTIAL = """(credential) => new Promise(function (resolve, reject) {
  var opening = indexedDB.open("exchange", 1);
  opening.onupgradeneeded = function () { opening.result.createObjectStore("device"); };
  opening.onsuccess = function () {
    var tx = opening.result.transaction("device", "readwrite");
    tx.objectStore("device").put(credential, "credential");
    tx.oncomplete = function () { resolve(true); };
    tx.onerror = function () { reject(tx.error); };
  };
  opening.onerror = function () { reject(opening.error); };
})"""

BANNER_ANSWER = """(alertId) => fetch("/alerts/" + alertId + "/answer", {
  method: "POST",
  headers: {"Accept": "application/json", "X-CSRFToken":
            document.querySelector('meta[name="csrf-token"]').content,
            "Content-Type": "application/x-www-form-urlencoded"},
  body: "answer=can_help&csrf_token=" + encodeURIComponent(
        document.querySelector('meta[name="csrf-token"]').content)
}).then(function (r) { return r.status; })"""

CLOSE_ALL = """() => navigator.serviceWorker.ready.then(function (r) {
  return r.getNotifications();
}).then(function (list) { list.forEach(function (n) { n.close(); }); return list.length; })"""


def _bare_app(environ: dict[str, Any], start_response: Any) -> Any:
    path = Request(environ).path
    body, kind = {
        "/sw.js": (BARE_WORKER, "text/javascript"),
        "/register.js": (BARE_REGISTER, "text/javascript"),
        "/icon.png": (ICON.read_bytes(), "image/png"),
    }.get(path, (BARE_PAGE, "text/html"))
    return Response(body, content_type=kind)(environ, start_response)


def _serve(app: Any) -> tuple[Any, str]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def _shown_after_push(page: Any, origin: str) -> list[float]:
    """Seconds from deliverPushMessage to the notification listed, ROUNDS times."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    cdp = page.context.new_cdp_session(page)
    registration = registration_id(cdp, origin)
    times = []
    for n in range(ROUNDS):
        payload = {
            "v": 1,
            "title": "INVICTM Exchange",
            "body": "Urgent alert — open the Exchange",
            "url": "/alerts/x",
            "tag": f"bench-{n}",
            "kind": "alert.raised",
            "urgent": True,
            "answerable": True,
        }
        started = time.perf_counter()
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registration, "data": json.dumps(payload)},
        )
        deadline = started + WAIT_S
        while time.perf_counter() < deadline:
            if any(s["tag"] == f"bench-{n}" for s in page.evaluate(NOTIFICATIONS)):
                break
        times.append(time.perf_counter() - started)
        page.evaluate(CLOSE_ALL)
    return times


def _answered(alert_id: str, member_id: str) -> bool:
    db.session.rollback()
    return (
        db.session.scalar(
            select(AlertAnswer.id).where(
                AlertAnswer.alert_id == alert_id, AlertAnswer.member_id == member_id
            )
        )
        is not None
    )


def _until_answered(alert_id: str, member_id: str, started: float) -> float:
    deadline = started + WAIT_S
    while not _answered(alert_id, member_id) and time.perf_counter() < deadline:
        time.sleep(0.001)
    return time.perf_counter() - started


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log with alert ids
    folder = Path(tempfile.mkdtemp(prefix="push-client-"))
    instance = prepare_instance(folder, ratelimit_enabled=False)
    with instance.config_path.open("a", encoding="utf-8") as config:
        config.write('[push]\nallow_hosts = "127.0.0.1"\n[limits]\nalerts_per_hour = 0\n')
    app = instance.app()
    context = app.app_context()
    context.push()
    password_hash = hash_password("bench password 0123456789")
    raiser, member = bulk_members(2, password_hash)
    db.session.commit()
    credential = subscriptions.subscribe(
        member, browser_subscription("http://127.0.0.1:9/push/bench"), session_ref=None
    ).credential
    db.session.commit()
    cookie = session_cookie(app, member).split("=", 1)[1]
    member_id = member.id
    alerts = [raise_alert(raiser, title=f"Bench {n}").id for n in range(2 * ROUNDS)]

    exchange_server, exchange = _serve(app)
    bare_server, bare = _serve(_bare_app)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
    try:
        results: dict[str, list[float]] = {}
        for name, origin in (("exchange", exchange), ("bare", bare)):
            ctx = browser.new_context()
            ctx.grant_permissions(["notifications"], origin=origin)
            page = ctx.new_page()
            page.goto(origin + ("/sign-in" if name == "exchange" else "/"))
            results[name] = _shown_after_push(page, origin)
            ctx.close()

        ctx = browser.new_context()
        ctx.add_cookies(
            [{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": exchange}]
        )
        page = ctx.new_page()
        page.goto(exchange + "/")
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.evaluate(STORE_CREDENTIAL, credential)
        [worker] = ctx.service_workers
        taps, banner = [], []
        for n in range(ROUNDS):
            alert_id = alerts[n]
            started = time.perf_counter()
            worker.evaluate(TAP_ACTION, [f"/alerts/{alert_id}", "can_help"])
            taps.append(_until_answered(alert_id, member_id, started))
            alert_id = alerts[ROUNDS + n]
            started = time.perf_counter()
            status = page.evaluate(BANNER_ANSWER, alert_id)
            assert status == 200, status
            banner.append(_until_answered(alert_id, member_id, started))
        ctx.close()
    finally:
        browser.close()
        playwright.stop()
        exchange_server.shutdown()
        bare_server.shutdown()
    figure(
        "push client: delivered to the worker -> notification shown (median)",
        statistics.median(results["exchange"]) * 1000,
        "a bare worker that only shows it (same icon)",
        statistics.median(results["bare"]) * 1000,
        "ms",
        higher_is_better=False,
    )
    figure(
        "push client: tap on I can help -> answer on the board (median)",
        statistics.median(taps) * 1000,
        "the banner's in-page one-tap answer",
        statistics.median(banner) * 1000,
        "ms",
        higher_is_better=False,
    )
    context.pop()


if __name__ == "__main__":
    main()
