// INVICTM Exchange: the service worker (installable app, offline page, Web Push) and the
// "Turn on notifications on this device" switch. Progressive: every page works without it.
"use strict";
(function () {
  var script = document.currentScript;
  var workerUrl = script ? script.getAttribute("data-worker") : "";
  // This sign-in (a digest, empty when signed out) and where a device subscribes: a device
  // that already has notifications is bound again to each new sign-in, so signing out here
  // ends it (the server ends a device with the sign-in it was made in).
  var signIn = script ? script.getAttribute("data-sign-in") || "" : "";
  var subscribeUrl = script ? script.getAttribute("data-subscribe") || "" : "";
  var releaseUrl = script ? script.getAttribute("data-release") || "" : "";
  var BOUND_KEY = "exchange.push.sign-in";
  var MESSAGES = {};
  // The words this script shows, in the reader's language (static/texts.js).
  var say = window.ExchangeTexts.say;
  ["unsupported", "denied", "dismissed", "working", "on", "already", "failed"].forEach(function (name) {
    Object.defineProperty(MESSAGES, name, { get: function () { return say("push." + name); } });
  });

  function registerWorker() {
    if (!workerUrl || !("serviceWorker" in navigator)) { return Promise.resolve(null); }
    return navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch(function () {
      return null; // the site works without it
    });
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function openDevice() {
    return new Promise(function (resolve, reject) {
      var opening = indexedDB.open("exchange", 1);
      opening.onupgradeneeded = function () { opening.result.createObjectStore("device"); };
      opening.onsuccess = function () { resolve(opening.result); };
      opening.onerror = function () { reject(opening.error); };
    });
  }

  function storeCredential(credential) {
    return openDevice().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("device", "readwrite");
        tx.objectStore("device").put(credential, "credential");
        tx.oncomplete = function () { db.close(); resolve(); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function base64UrlToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window &&
      window.isSecureContext !== false;
  }

  function Refusal(message) { this.message = message; }

  function askPermission() {
    return Promise.resolve(Notification.requestPermission()).then(function (answer) {
      if (answer === "denied") { throw new Refusal(MESSAGES.denied); }
      if (answer !== "granted") { throw new Refusal(MESSAGES.dismissed); }
    });
  }

  function fetchKey(box) {
    return fetch(box.getAttribute("data-key"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Refusal(MESSAGES.failed); }
      return response.json();
    }).then(function (body) { return base64UrlToBytes(body.key); });
  }

  function subscribeBrowser(registration, key) {
    return registration.pushManager.getSubscription().then(function (existing) {
      return existing || registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: key
      });
    });
  }

  function sendSubscription(url, subscription) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": csrfToken()
      },
      body: JSON.stringify(subscription.toJSON())
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.status !== 201 || !body.credential) {
          throw new Refusal(body.error || MESSAGES.failed);
        }
        return body;
      });
    });
  }

  function turnOn(box, button, status, ready) {
    button.disabled = true;
    status.textContent = MESSAGES.working;
    askPermission()
      .then(function () { return Promise.all([ready, fetchKey(box)]); })
      .then(function (both) {
        if (!both[0]) { throw new Refusal(MESSAGES.unsupported); }
        return subscribeBrowser(both[0], both[1]);
      })
      .then(function (subscription) { return sendSubscription(box.getAttribute("data-subscribe"), subscription); })
      .then(function (body) { return storeCredential(body.credential); })
      .then(function () {
        rememberBound();
        status.textContent = MESSAGES.on;
        box.setAttribute("data-push-state", "on");
        button.hidden = true; // just turned on: nothing more to press here
      })
      .catch(function (error) {
        status.textContent = error instanceof Refusal ? error.message : MESSAGES.failed;
        box.setAttribute("data-push-state", "off");
      })
      .then(function () { button.disabled = false; });
  }

  function showState(box, button, status, ready) {
    if (Notification.permission === "denied") {
      status.textContent = MESSAGES.denied;
    } else if (Notification.permission === "granted" &&
               box.getAttribute("data-this-device") === "on") {
      // Already on: the switch stays, as the words say, for a device whose notifications
      // stopped arriving.
      ready.then(function (registration) {
        return registration ? registration.pushManager.getSubscription() : null;
      }).then(function (existing) {
        if (existing) { status.textContent = MESSAGES.already; }
      }).catch(function () { return null; });
    }
    button.hidden = false;
    button.addEventListener("click", function () { turnOn(box, button, status, ready); });
  }

  function forgetThisDevice(form, ready) {
    // Removing this browser's own device also unsubscribes the browser, so no later sign-in
    // turns it on again by itself; then the form is sent as it is.
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      try { window.localStorage.removeItem(BOUND_KEY); } catch (error) { /* private mode */ }
      ready.then(function (registration) {
        return registration ? registration.pushManager.getSubscription() : null;
      }).then(function (existing) {
        return existing ? existing.unsubscribe() : null;
      }).catch(function () { return null; }).then(function () { form.submit(); });
    });
  }

  function setUpSwitches(registered) {
    var ready = registered.then(function (registration) {
      return registration ? navigator.serviceWorker.ready : null;
    });
    document.querySelectorAll("form[data-push-remove-this]").forEach(function (form) {
      forgetThisDevice(form, ready);
    });
    document.querySelectorAll("[data-device-push]").forEach(function (box) {
      var button = box.querySelector("[data-push-enable]");
      var status = box.querySelector("[data-push-status]");
      if (!button || !status) { return; }
      if (!pushSupported()) {
        status.textContent = MESSAGES.unsupported;
        return;
      }
      showState(box, button, status, ready);
    });
  }

  function rememberBound() {
    try { window.localStorage.setItem(BOUND_KEY, signIn); } catch (error) { /* private mode */ }
  }

  function boundTo() {
    try { return window.localStorage.getItem(BOUND_KEY); } catch (error) { return signIn; }
  }

  function sameMember(bound) {
    // "<member>.<sign-in>": another member signing in on this browser is never subscribed
    // without pressing the switch herself.
    return typeof bound === "string" && bound.split(".")[0] === signIn.split(".")[0];
  }

  function forgetDevice() {
    // The previous member's credential leaves this browser with her device.
    try { window.localStorage.removeItem(BOUND_KEY); } catch (error) { /* private mode */ }
    return openDevice().then(function (db) {
      return new Promise(function (resolve) {
        var tx = db.transaction("device", "readwrite");
        tx.objectStore("device").delete("credential");
        // Her answers still waiting for a connection leave with her too.
        tx.objectStore("device").delete(IDBKeyRange.bound("answer:", "answer:\uffff"));
        tx.oncomplete = tx.onerror = tx.onabort = function () { db.close(); resolve(); };
      });
    }).catch(function () { return null; });
  }

  function releaseFromAnotherMember(registered) {
    // Another member signed in on a browser whose notifications were turned on by someone
    // else (a shared computer left signed in): her device ends here, its credential is
    // forgotten and the browser unsubscribes. The new member may turn on her own.
    registered.then(function (registration) {
      // No worker on this page (it failed to register, the page is leaving): the next page
      // tries again; only a browser known to hold no subscription forgets at once.
      if (!registration) { throw new Error("no worker yet"); }
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      return registration.pushManager.getSubscription();
    }).then(function (existing) {
      if (!existing) { return forgetDevice(); }
      return fetch(releaseUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ endpoint: existing.endpoint })
      }).then(function (response) {
        if (!response.ok) { throw new Error("not released"); } // tried again on the next page
        return existing.unsubscribe().catch(function () { return null; });
      }).then(forgetDevice);
    }).catch(function () { return null; });
  }

  function bindToThisSignIn(registered) {
    // Only a device its member turned on, in her new sign-in: nothing is asked.
    var bound = boundTo();
    if (!signIn || !subscribeUrl || !pushSupported() || bound === signIn) { return; }
    if (bound && !sameMember(bound) && releaseUrl) { releaseFromAnotherMember(registered); return; }
    if (Notification.permission !== "granted" || !sameMember(bound)) { return; }
    registered.then(function (registration) {
      return registration ? navigator.serviceWorker.ready : null;
    }).then(function (registration) {
      return registration ? registration.pushManager.getSubscription() : null;
    }).then(function (existing) {
      if (!existing) { return null; }
      return sendSubscription(subscribeUrl, existing).then(function (body) {
        return storeCredential(body.credential);
      }).then(rememberBound);
    }).catch(function () { return null; }); // tried again on the next page
  }

  function sendWaitingAnswers(registered) {
    // Answers tapped on a notification while the phone had no connection wait in the worker;
    // a page that is online says so (the worker also tries with each page it serves).
    registered.then(function (registration) {
      return registration ? navigator.serviceWorker.ready : null;
    }).then(function (registration) {
      if (registration && registration.active) {
        registration.active.postMessage({ type: "send-waiting-answers" });
      }
    }).catch(function () { return null; });
  }

  var registered = registerWorker();
  bindToThisSignIn(registered);
  window.addEventListener("online", function () { sendWaitingAnswers(registered); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUpSwitches(registered); });
  } else {
    setUpSwitches(registered);
  }
})();
