// INVICTM Exchange live channel: urgent-alert banners, one-tap answers, pages that refresh
// themselves. Server-sent events first; when the stream fails, poll a JSON endpoint instead.
// No inline script anywhere (CSP): this file is loaded by the base layout.
"use strict";
(function () {
  var POLL_MS = 4000;
  var SNOOZE_MS = 15 * 60 * 1000;
  var SNOOZE_KEY = "exchange.alerts.snoozed";
  var DONE_MS = 8000;
  var pollTimer = null;
  var source = null;
  var baseTitle = document.title;
  var known = {};          // alert links this page has shown (a new one chimes)
  // The words this script shows, in the reader's language (static/texts.js).
  var say = window.ExchangeTexts.say;
  var sayCount = window.ExchangeTexts.sayCount;

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

  function container() { return document.getElementById("live-banner"); }

  // The live channel's addresses come from the page (base.html renders them on the banner area).
  function liveUrl(name, fallback) {
    var box = container();
    return (box && box.getAttribute("data-" + name)) || fallback;
  }
  function items() { var box = container(); return box ? box.querySelectorAll(".banner-item") : []; }

  function announce(text) {
    var region = document.getElementById("banner-announce");
    if (region) { region.textContent = ""; window.setTimeout(function () { region.textContent = text; }, 50); }
  }

  // --- snooze ("Later"): per tab, for a while, across the pages of this tab ---------------
  function snoozed() {
    try { return JSON.parse(window.sessionStorage.getItem(SNOOZE_KEY) || "{}"); } catch (e) { return {}; }
  }
  function isSnoozed(link) { return (snoozed()[link] || 0) > Date.now(); }
  function snooze(link) {
    var all = snoozed();
    all[link] = Date.now() + SNOOZE_MS;
    try { window.sessionStorage.setItem(SNOOZE_KEY, JSON.stringify(all)); } catch (e) { /* private mode */ }
  }

  // --- the tab title and the chime: a sign on a tab in the background ---------------------
  function updateTitle() {
    var waiting = Array.prototype.filter.call(items(), function (item) {
      return !item.classList.contains("banner-answered");
    }).length;
    // Only a count and a fixed phrase: the tab title never carries an alert's content.
    document.title = waiting ?
      "(" + waiting + ") " + sayCount("live.urgent", waiting) + " \u2014 " + baseTitle :
      baseTitle;
  }

  function chime() {
    var box = container();
    var src = box && box.getAttribute("data-sound");
    if (!src || !window.Audio) { return; }
    try {
      var played = new window.Audio(src).play();
      if (played && played.catch) { played.catch(function () { /* autoplay blocked: the title still shows it */ }); }
    } catch (e) { /* no audio on this device */ }
  }

  // --- focus: never left on an element that goes away ------------------------------------
  function moveFocusFrom(item) {
    if (!item.contains(document.activeElement)) { return; }
    var next = Array.prototype.filter.call(items(), function (other) { return other !== item; })[0];
    var target = next && next.querySelector("button, a");
    if (!target) {
      target = document.querySelector("main");
      if (target) { target.setAttribute("tabindex", "-1"); }
    }
    if (target) { target.focus(); }
  }

  function removeBanner(item) {
    var box = container();
    moveFocusFrom(item);
    if (item.parentNode) { item.parentNode.removeChild(item); }
    if (box && !box.querySelector(".banner-item")) { box.hidden = true; }
    updateTitle();
  }

  function onItsOwnPage(link) {
    return window.location.pathname === link && document.querySelector("[data-live-answer]");
  }

  function wire(item) {
    var link = item.getAttribute("data-alert-link");
    known[link] = true;
    var later = item.querySelector("[data-banner-later]");
    if (later) {
      later.hidden = false;
      later.addEventListener("click", function () {
        if (!item.classList.contains("banner-answered")) {
          snooze(link);
          announce(say("live.hidden"));
        }
        removeBanner(item);
      });
    }
    var form = item.querySelector("form[data-banner-answer]");
    if (form) { form.addEventListener("submit", submitAnswer); }
  }

  function submitAnswer(event) {
    var form = event.target;
    var submitter = event.submitter;
    if (!window.fetch || !submitter) { return; }  // the plain form post still works
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") { return; }
    var item = form.closest(".banner-item");
    var status = item.querySelector(".banner-status");
    var data = new FormData(form);
    data.set("answer", submitter.value);
    // Not `disabled`: disabling the focused button would drop keyboard focus to the page.
    form.setAttribute("aria-busy", "true");
    status.textContent = say("live.sending");
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      form.removeAttribute("aria-busy");
      if (result.ok) {
        item.classList.add("banner-answered");
        status.textContent = say("live.thanks", { answer: result.body.label });
        status.focus();  // the button pressed goes away; the confirmation takes the focus
        form.parentNode.removeChild(form);
        var later = item.querySelector("[data-banner-later]");
        if (later) { later.textContent = say("live.close"); }
        updateTitle();
        refreshHomeSoon();  // the start page's card still offers the answer buttons
        window.setTimeout(function () { removeBanner(item); }, DONE_MS);
      } else {
        status.textContent = result.body.error || say("live.failed");
        if (submitter.isConnected) { submitter.focus(); }
        refreshBanners();  // the alert may have closed meanwhile
      }
    }).catch(function () { form.removeAttribute("aria-busy"); form.submit(); });
  }

  // --- the banners themselves come from the server (only open alerts) ---------------------
  // `closing`: an alert just closed, so a banner kept only for its thank-you goes too (the
  // server lists open alerts the member has not answered; it cannot tell which one closed).
  function merge(html, closing) {
    var box = container();
    var template = document.createElement("template");
    template.innerHTML = html;
    var fresh = {};
    var order = [];
    var changed = false;
    template.content.querySelectorAll(".banner-item").forEach(function (node) {
      var link = node.getAttribute("data-alert-link");
      fresh[link] = node;
      order.push(link);
    });
    Array.prototype.forEach.call(items(), function (item) {
      var link = item.getAttribute("data-alert-link");
      if (!fresh[link] && (closing || !item.classList.contains("banner-answered"))) {
        removeBanner(item);
        changed = true;
      }
    });
    var added = false;
    order.forEach(function (link) {
      if (isSnoozed(link) || onItsOwnPage(link)) { return; }
      var existing = box.querySelector('.banner-item[data-alert-link="' + link + '"]');
      if (existing) {  // a correction may have changed what the banner says
        var head = existing.querySelector(".banner-head");
        if (head) { head.replaceWith(document.importNode(fresh[link].querySelector(".banner-head"), true)); }
        return;
      }
      var node = document.importNode(fresh[link], true);
      if (!known[link]) { added = true; }
      changed = true;
      wire(node);
      box.appendChild(node);
    });
    box.hidden = !box.querySelector(".banner-item");
    updateTitle();
    if (added) {
      chime();
    }
    if (changed) { refreshHomeSoon(); }
  }

  function refreshBanners(closing) {
    var box = container();
    var src = box && box.getAttribute("data-src");
    if (!src || !window.fetch) { return; }
    fetch(src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { merge(html, closing === true); } })
      .catch(function () {});
  }

  function initBanners() {
    Array.prototype.forEach.call(items(), function (item) {
      var link = item.getAttribute("data-alert-link");
      if (isSnoozed(link)) { item.parentNode.removeChild(item); return; }
      wire(item);
    });
    var box = container();
    if (box) { box.hidden = !box.querySelector(".banner-item"); }
    updateTitle();
  }

  // --- the start page's "Open alerts" card: what the page would show if it were opened now --
  // The card lists open alerts with their one-tap answers; an alert that arrives or closes
  // while the page is open must show there too, not only in the banner above it. The page is
  // fetched again with the member's cookies and only the card's content is swapped.
  var homeTimer = null;
  var homeBusy = false;
  var homeAgain = false;

  function refreshHomeSoon() {  // one fetch for a burst of events (the event, then the merge)
    if (!document.getElementById("home-alerts")) { return; }
    if (homeTimer) { window.clearTimeout(homeTimer); }
    homeTimer = window.setTimeout(function () { homeTimer = null; refreshHome(); }, 250);
  }

  // What the focused element is, so its twin in the fresh card can take the focus back.
  function focusKey(el) {
    if (el.tagName === "A") { return "a " + el.getAttribute("href"); }
    var form = el.form ? el.form.getAttribute("action") : "";
    return el.tagName + " " + form + " " + (el.getAttribute("value") || el.textContent);
  }

  function swapHome(section, fresh) {
    var active = document.activeElement;
    var had = active && active !== section && section.contains(active) ? focusKey(active) : null;
    var hadSection = active === section;
    section.replaceChildren.apply(section, Array.prototype.map.call(fresh.childNodes, function (node) {
      return document.importNode(node, true);
    }));
    if (had === null) { if (hadSection) { section.focus(); } return; }  // never takes the focus
    var twin = Array.prototype.filter.call(section.querySelectorAll("a, button"), function (el) {
      return focusKey(el) === had;
    })[0];
    if (!twin) { section.setAttribute("tabindex", "-1"); twin = section; }  // its element went away
    twin.focus({ preventScroll: true });
  }

  function refreshHome() {
    var section = document.getElementById("home-alerts");
    if (!section || !window.fetch || !window.DOMParser) { return; }
    if (homeBusy) { homeAgain = true; return; }
    homeBusy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("home-alerts");
        if (fresh) { swapHome(section, fresh); }  // none: signed out meanwhile; keep what is shown
      })
      .catch(function () {})
      .then(function () {
        homeBusy = false;
        if (homeAgain) { homeAgain = false; refreshHome(); }
      });
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
    return fetch(liveUrl("poll", "/live/poll"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        bell(body.unread);
        refreshBanners();
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
    var url = liveUrl("stream", "/live/stream") + (topics.length ? "?" + topics.map(function (t) {
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
      if (n.urgent || n.kind === "alert.cancelled") { refreshBanners(); refreshHomeSoon(); }
    });
    source.addEventListener("topic", function (event) {
      var topic = JSON.parse(event.data).topic;
      if (topic === "alerts:closed") {
        if (items().length) { refreshBanners(true); }  // only pages that show a banner ask
        refreshHomeSoon();  // only the start page asks
        return;
      }
      refreshTopic(topic);
    });
    source.addEventListener("error", function () {
      document.body.setAttribute("data-live", "polling");
      startPolling();  // EventSource retries by itself; until it is back, poll
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.body.hasAttribute("data-signed-in")) { return; }
    initBanners();
    sync();
    connect();
  });
  window.addEventListener("pagehide", function () { if (source) { source.close(); } });
})();
