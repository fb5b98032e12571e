// INVICTM Exchange live channel: urgent-alert banners, one-tap answers, pages that refresh
// themselves. Server-sent events first; when the stream fails, poll a JSON endpoint instead.
// No inline script anywhere (CSP): this file is loaded by the base layout.
"use strict";
(function () {
  var POLL_MS = 4000;
  var ANSWERS = [
    ["seen", "Seen"],
    ["can_help", "I can help"],
    ["nationals_affected", "Our nationals are affected"],
    ["not_available", "Not available"]
  ];
  var shown = {};          // alert link -> banner element
  var dismissed = {};      // alert links hidden with "Later" on this page
  var pollTimer = null;
  var source = null;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function bell(count) {
    var el = document.getElementById("bell-count");
    if (el && typeof count === "number") { el.textContent = count > 0 ? String(count) : ""; }
  }

  function bumpBell() {
    var el = document.getElementById("bell-count");
    if (el) { el.textContent = String((parseInt(el.textContent, 10) || 0) + 1); }
  }

  function isAlertLink(link) { return /^\/alerts\/[0-9a-f]{32}$/.test(link || ""); }

  function answerForm(link) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = link + "/answer";
    form.className = "banner-answers";
    var token = document.createElement("input");
    token.type = "hidden"; token.name = "csrf_token"; token.value = csrfToken();
    form.appendChild(token);
    ANSWERS.forEach(function (pair) {
      var button = document.createElement("button");
      button.type = "submit"; button.name = "answer"; button.value = pair[0];
      button.textContent = pair[1];
      form.appendChild(button);
    });
    form.addEventListener("submit", submitAnswer);
    return form;
  }

  function submitAnswer(event) {
    var form = event.target;
    var submitter = event.submitter;
    if (!window.fetch || !submitter) { return; }  // plain form post still works
    event.preventDefault();
    var data = new FormData(form);
    data.set("answer", submitter.value);
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      var item = form.closest(".banner-item") || form.parentNode;
      var note = document.createElement("p");
      note.className = "banner-done";
      if (result.ok) {
        note.textContent = "Thank you. Your answer: " + result.body.label + " (you can change it on the alert page).";
        form.replaceWith(note);
        window.setTimeout(function () { removeBanner(item); }, 6000);
      } else {
        note.textContent = result.body.error || "That did not work; please open the alert.";
        form.appendChild(note);
        buttons.forEach(function (b) { b.disabled = false; });
      }
    }).catch(function () { form.submit(); });
  }

  function container() { return document.getElementById("live-banner"); }

  function removeBanner(item) {
    var box = container();
    if (item && item.parentNode) { item.parentNode.removeChild(item); }
    Object.keys(shown).forEach(function (k) { if (shown[k] === item) { delete shown[k]; } });
    if (box && !box.querySelector(".banner-item")) { box.hidden = true; }
  }

  function showBanner(n) {
    var box = container();
    if (!box || !n.urgent || !isAlertLink(n.link) || dismissed[n.link]) { return; }
    if (window.location.pathname === n.link && document.querySelector("[data-live-answer]")) {
      return;  // the alert page itself has the answer buttons
    }
    var item = shown[n.link];
    if (!item) {
      item = document.createElement("div");
      item.className = "banner-item";
      item.setAttribute("role", "alert");
      item.setAttribute("data-alert-link", n.link);
      shown[n.link] = item;
      box.appendChild(item);
    }
    item.textContent = "";
    var text = document.createElement("strong");
    text.className = "banner-text";
    text.textContent = n.text;
    var open = document.createElement("a");
    open.href = n.link; open.textContent = "Open the alert";
    var later = document.createElement("button");
    later.type = "button"; later.className = "link banner-later"; later.textContent = "Later";
    later.addEventListener("click", function () { dismissed[n.link] = true; removeBanner(item); });
    item.appendChild(text);
    item.appendChild(document.createTextNode(" "));
    item.appendChild(open);
    if (n.kind === "alert.raised" || n.kind === "alert.reminder") { item.appendChild(answerForm(n.link)); }
    item.appendChild(later);
    box.hidden = false;
  }

  function refreshTopic(topic) {
    document.querySelectorAll("[data-live-topic]").forEach(function (el) {
      if (topic && el.getAttribute("data-live-topic") !== topic) { return; }
      var src = el.getAttribute("data-live-src");
      if (!src) { return; }
      fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { el.innerHTML = html; } })
        .catch(function () {});
    });
  }

  function sync() {
    return fetch("/live/poll", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        bell(body.unread);
        body.urgent.forEach(showBanner);
      }).catch(function () {});
  }

  function startPolling() {
    if (pollTimer) { return; }
    pollTimer = window.setInterval(function () { sync(); refreshTopic(null); }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    if (!window.EventSource) { startPolling(); return; }
    var topics = [];
    document.querySelectorAll("[data-live-topic]").forEach(function (el) {
      var t = el.getAttribute("data-live-topic");
      if (topics.indexOf(t) < 0) { topics.push(t); }
    });
    var url = "/live/stream" + (topics.length ? "?" + topics.map(function (t) {
      return "watch=" + encodeURIComponent(t);
    }).join("&") : "");
    source = new EventSource(url);
    source.addEventListener("open", function () {
      stopPolling();
      document.body.setAttribute("data-live", "open");
      sync();  // catch up on anything sent while the stream was down
    });
    source.addEventListener("notification", function (event) {
      var n = JSON.parse(event.data);
      bumpBell();
      showBanner(n);
    });
    source.addEventListener("topic", function (event) {
      refreshTopic(JSON.parse(event.data).topic);
    });
    source.addEventListener("error", function () {
      document.body.setAttribute("data-live", "polling");
      startPolling();  // EventSource retries by itself; until it is back, poll
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.body.hasAttribute("data-signed-in")) { return; }
    sync();
    connect();
  });
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
})();
