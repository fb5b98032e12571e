// INVICTM Exchange service worker: served from /sw.js (scope /) by forum/pwa.py, which fills in
// the version (a digest of the static files) and the app's name.
//
// What it keeps: static files and the offline page, nothing else. A page with member content is
// never stored: navigations go to the network, and only when the network is away is the
// offline page (the same for everyone) shown instead.
"use strict";

var VERSION = "__STATIC_VERSION__";
var APP_NAME = "__APP_NAME__";
var CACHE = "exchange-static-" + VERSION;
var OFFLINE_URL = "/offline";
var PRECACHE = [
  "/static/exchange.css",
  "/static/exchange.js",
  "/static/texts.js",
  "/static/pwa.js",
  "/static/favicon.svg",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/static/icons/icon-maskable-512.png",
  "/static/icons/apple-touch-icon.png"
];
var ANSWERS = { seen: true, can_help: true };
// Said in the member's language by the payload ("actions"); these only stand in for a payload
// sent before it carried them.
var ACTION_TITLES = { seen: "Seen", can_help: "I can help" };
var SAID = {
  sent: "Your answer was sent.",
  waiting: "No connection: your answer will be sent when this phone is online again.",
  refused: "Your answer could not be sent. Open the alert to answer there."
};
// An answer tapped without a connection waits on the device this long, then is dropped.
var ANSWER_KEPT_MS = 24 * 60 * 60 * 1000;
var ANSWER_KEY = "answer:"; // + the alert's path, in the "device" store

function precache() {
  return caches.open(CACHE).then(function (cache) {
    // No cookies: what is stored must not depend on who is signed in.
    var requests = PRECACHE.concat([OFFLINE_URL]).map(function (url) {
      return new Request(url, { credentials: "omit", cache: "reload" });
    });
    return cache.addAll(requests);
  });
}

function onInstall(event) {
  event.waitUntil(precache().then(function () { return self.skipWaiting(); }));
}

function dropOldCaches() {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== CACHE; })
      .map(function (name) { return caches.delete(name); }));
  });
}

function onActivate(event) {
  event.waitUntil(dropOldCaches().then(function () { return self.clients.claim(); }));
}

function offlinePage() {
  return caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE_URL); })
    .then(function (response) {
      return response || new Response("You are offline.", {
        status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" }
      });
    });
}

function networkFirstPage(request) {
  // The page itself is never put in a cache, whatever it is.
  return fetch(request).catch(offlinePage);
}

function cacheFirstStatic(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      if (hit) { return hit; }
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") { cache.put(request, response.clone()); }
        return response;
      });
    });
  });
}

function onFetch(event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(networkFirstPage(request));
    event.waitUntil(sendWaitingAnswers().catch(function () { return undefined; }));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(cacheFirstStatic(request));
  }
  // Anything else (fragments, JSON, streams) goes to the network untouched and is never stored.
}

function payloadOf(event) {
  try {
    var data = event.data ? event.data.json() : null;
    return data && typeof data === "object" ? data : {};
  } catch (error) {
    return {};
  }
}

function inAppUrl(url) {
  // Only a link on this site: a payload cannot send the member elsewhere. A path that
  // normalises to "//host/…" ("/.//evil.example") would leave the site when used as a link.
  try {
    var target = new URL(typeof url === "string" && url ? url : "/", self.location.origin);
    if (target.origin !== self.location.origin || target.pathname.indexOf("//") === 0) { return "/"; }
    return target.pathname + target.search;
  } catch (error) {
    return "/";
  }
}

function onThisSite(path) {
  // An absolute URL of this site for a path inAppUrl gave, or null.
  var target = new URL(path, self.location.origin);
  return target.origin === self.location.origin ? target.href : null;
}

function actionsOf(data) {
  // The payload's titles for the two answers (in the member's language), nothing else.
  var given = {};
  if (Array.isArray(data.actions)) {
    data.actions.forEach(function (item) {
      if (item && ANSWERS[item.action] === true && typeof item.title === "string" && item.title) {
        given[item.action] = item.title;
      }
    });
  }
  return ["seen", "can_help"].map(function (action) {
    return { action: action, title: given[action] || ACTION_TITLES[action] };
  });
}

function onPush(event) {
  var data = payloadOf(event);
  var answerable = data.answerable === true;
  var options = {
    body: typeof data.body === "string" ? data.body : "Something happened — open the Exchange.",
    tag: typeof data.tag === "string" && data.tag ? data.tag : undefined,
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    data: { url: inAppUrl(data.url), answerable: answerable, said: saidOf(data), actions: {} },
    actions: answerable ? actionsOf(data) : [],
    requireInteraction: data.urgent === true,
    renotify: true
  };
  if (!options.tag) { options.renotify = false; } // renotify needs a tag
  options.actions.forEach(function (item) { options.data.actions[item.action] = item.title; });
  var title = typeof data.title === "string" && data.title ? data.title : APP_NAME;
  event.waitUntil(self.registration.showNotification(title, options).then(sendWaitingAnswers));
}

function saidOf(data) {
  // The payload's words for what became of a tap (in the member's language), else English.
  var said = {};
  Object.keys(SAID).forEach(function (state) {
    var given = data.said && typeof data.said === "object" ? data.said[state] : null;
    said[state] = typeof given === "string" && given ? given : SAID[state];
  });
  return said;
}

function openDevice() {
  return new Promise(function (resolve, reject) {
    var opening = indexedDB.open("exchange", 1);
    opening.onupgradeneeded = function () { opening.result.createObjectStore("device"); };
    opening.onsuccess = function () { resolve(opening.result); };
    opening.onerror = function () { reject(opening.error); };
  });
}

function readCredential() {
  return openDevice().then(function (db) {
    return new Promise(function (resolve) {
      var reading = db.transaction("device", "readonly").objectStore("device").get("credential");
      reading.onsuccess = function () { db.close(); resolve(reading.result || null); };
      reading.onerror = function () { db.close(); resolve(null); };
    });
  }).catch(function () { return null; });
}

function changeDevice(change) {
  // One read-write transaction on the device store: change(store) puts or deletes.
  return openDevice().then(function (db) {
    return new Promise(function (resolve) {
      var tx = db.transaction("device", "readwrite");
      change(tx.objectStore("device"));
      tx.oncomplete = function () { db.close(); resolve(true); };
      tx.onerror = tx.onabort = function () { db.close(); resolve(false); };
    });
  }).catch(function () { return false; });
}

function waitingAnswers() {
  // The answers tapped while the phone had no connection, oldest first.
  return openDevice().then(function (db) {
    return new Promise(function (resolve) {
      var found = [];
      var range = IDBKeyRange.bound(ANSWER_KEY, ANSWER_KEY + "\uffff");
      var cursor = db.transaction("device", "readonly").objectStore("device").openCursor(range);
      cursor.onsuccess = function () {
        var at = cursor.result;
        if (!at) { db.close(); resolve(found.sort(function (a, b) { return a.at - b.at; })); return; }
        found.push(at.value);
        at.continue();
      };
      cursor.onerror = function () { db.close(); resolve([]); };
    });
  }).catch(function () { return []; });
}

function focusOrOpen(url) {
  var target = onThisSite(inAppUrl(url));
  if (!target) { return Promise.resolve(); }
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i += 1) {
      if (list[i].url === target && "focus" in list[i]) { return list[i].focus(); }
    }
    return self.clients.openWindow(target);
  });
}

function sendAnswer(tap) {
  // "sent", "refused" (the server said no: the alert closed, the device ended) or "offline".
  // A tap goes with the credential of the device it was made on, never a later one (another
  // member may have turned notifications on in this browser since), and says when it was made.
  var target = onThisSite(tap.url.replace(/\/$/, "") + "/device-answer");
  if (!tap.credential || !target) { return Promise.resolve("refused"); }
  return fetch(target, {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: { "Authorization": "Bearer " + tap.credential, "Content-Type": "application/json" },
      body: JSON.stringify({ answer: tap.answer, tapped_at: Math.floor(tap.at / 1000) })
    }).then(function (response) {
      if (response.ok) { return "sent"; }
      // 429 and 5xx: the server is there but cannot take it now, so the answer waits.
      return response.status === 429 || response.status >= 500 ? "offline" : "refused";
    }, function () { return "offline"; });
}

function tell(tap, state) {
  // What became of a tap, on the alert's own notification (same tag: it replaces it).
  var options = { body: tap.said[state] || SAID[state], icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png", data: { url: tap.url, answerable: false } };
  if (tap.tag) { options.tag = tap.tag; options.renotify = false; }
  return self.registration.showNotification(tap.title || APP_NAME, options)
    .catch(function () { return undefined; }); // saying it is a courtesy; the answer went
}

function keepAnswer(tap) {
  // One waiting answer per alert: a later tap replaces an earlier one.
  return changeDevice(function (store) { store.put(tap, ANSWER_KEY + tap.url); }).then(function () {
    if (self.registration.sync) {
      return self.registration.sync.register("answers").catch(function () { return undefined; });
    }
    return undefined;
  });
}

function dropAnswer(tap) {
  return changeDevice(function (store) { store.delete(ANSWER_KEY + tap.url); });
}

var sending = null; // one round of waiting answers at a time

function sendWaitingAnswers() {
  // Background Sync where the browser has it; else the next page, push or message tries them.
  if (sending) { return sending; }
  sending = waitingAnswers().then(function (taps) {
    return taps.reduce(function (chain, tap) {
      return chain.then(function (stillOnline) {
        if (!stillOnline) { return false; }
        if (Date.now() - tap.at > ANSWER_KEPT_MS) { return dropAnswer(tap).then(function () { return true; }); }
        return sendAnswer(tap).then(function (state) {
          if (state === "offline") { return false; }
          return dropAnswer(tap).then(function () { return tell(tap, state); })
            .then(function () { return true; });
        });
      });
    }, Promise.resolve(true));
  }).then(function (allSent) {
    sending = null;
    if (allSent === false) { throw new Error("answers still waiting"); } // sync retries later
  }, function (error) { sending = null; throw error; });
  return sending;
}

function onNotificationClick(event) {
  var notification = event.notification;
  var data = notification.data || {};
  var url = inAppUrl(data.url);
  notification.close();
  if (data.answerable && ANSWERS[event.action] === true) {
    // Answered from the notification: said on the phone once sent; without a connection it
    // waits on the device and goes when the phone is online; refused, the alert opens.
    var tap = {
      url: url, answer: event.action, at: Date.now(), tag: notification.tag || "",
      title: (data.actions && data.actions[event.action]) || ACTION_TITLES[event.action],
      said: data.said || SAID, credential: null
    };
    event.waitUntil(readCredential().then(function (credential) {
      tap.credential = credential;
      return sendAnswer(tap);
    }).then(function (state) {
      if (state === "sent") { return tell(tap, "sent"); }
      if (state === "offline") {
        return keepAnswer(tap).then(function () { return tell(tap, "waiting"); });
      }
      return focusOrOpen(url);
    }));
    return;
  }
  event.waitUntil(focusOrOpen(url));
}

function onSync(event) {
  if (event.tag === "answers") { event.waitUntil(sendWaitingAnswers()); }
}

function onMessage(event) {
  // A page of this site (pwa.js) says the phone is online again.
  if (event.data && event.data.type === "send-waiting-answers") {
    event.waitUntil(sendWaitingAnswers().catch(function () { return undefined; }));
  }
}

self.addEventListener("install", onInstall);
self.addEventListener("activate", onActivate);
self.addEventListener("fetch", onFetch);
self.addEventListener("push", onPush);
self.addEventListener("notificationclick", onNotificationClick);
self.addEventListener("sync", onSync);
self.addEventListener("message", onMessage);
