/* Drafts: a textarea with data-draft-key is saved on the server as the member types (debounced,
   POST with the CSRF token) and restored from there when the page opens with it empty. */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var DELAY = 1500;
  // The words this script shows, in the reader's language (static/texts.js).
  var say = window.ExchangeTexts.say;

  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": meta ? meta.content : "", "Accept": "application/json" },
      body: new URLSearchParams(fields)
    });
  }

  function setUp(area) {
    var key = area.getAttribute("data-draft-key");
    var url = area.getAttribute("data-draft-url");
    var discardUrl = area.getAttribute("data-draft-discard-url");
    if (!key || !url) { return; }
    var saved = area.value;
    var timer = null;
    var status = document.createElement("p");
    status.className = "draft-status muted";
    status.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", status);

    function save() {
      timer = null;
      var text = area.value;
      if (text === saved) { return; }
      post(url, { key: key, text: text }).then(function (response) {
        if (response.ok) {
          saved = text;
          status.textContent = text.trim() ? say("draft.saved") : "";
        } else if (response.status === 401) {
          status.textContent = say("draft.session_ended");
        } else {
          status.textContent = say("draft.not_saved");
        }
      }).catch(function () { status.textContent = say("draft.not_saved_offline"); });
    }

    function offerDiscard() {
      if (!discardUrl) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = say("draft.discard");
      button.addEventListener("click", function () {
        post(discardUrl, { key: key }).then(function () {
          area.value = "";
          saved = "";
          status.textContent = say("draft.discarded");
          area.focus();
        });
      });
      status.appendChild(document.createTextNode(" "));
      status.appendChild(button);
    }

    area.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(save, DELAY);
    });
    if (area.form) {
      area.form.addEventListener("submit", function () { if (timer) { clearTimeout(timer); } });
    }
    fetch(url + "?key=" + encodeURIComponent(key), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data || !data.text || data.text === area.value) { return; }
        if (!area.value.trim()) {
          area.value = data.text;
          saved = data.text;
          status.textContent = say("draft.restored");
          offerDiscard();
          return;
        }
        // The form already holds text (an edit): offer the draft instead of overwriting.
        var restore = document.createElement("button");
        restore.type = "button";
        restore.className = "link";
        restore.textContent = say("draft.restore");
        restore.addEventListener("click", function () {
          area.value = data.text;
          saved = data.text;
          status.textContent = say("draft.restored");
          offerDiscard();
          area.focus();
        });
        status.textContent = say("draft.offer") + " ";
        status.appendChild(restore);
      }).catch(function () { /* no draft: nothing to restore */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("textarea[data-draft-key]"), setUp);
  });
})();
