// Authenticator set-up and recovery codes: copy the key, copy / download / print the codes.
// Loaded as a file (the CSP allows no inline script); the buttons stay hidden without it.
(function () {
  "use strict";
  // The words this script shows, in the reader's language (static/texts.js).
  var say = window.ExchangeTexts.say;

  function codesOf(listId) {
    var list = document.getElementById(listId);
    if (!list) { return []; }
    return Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
      return c.textContent.trim();
    });
  }

  function copied(button, text) {
    var label = button.textContent;
    function done(word) {
      button.textContent = word;
      window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(say("copy.done")); },
        function () { done(say("copy.failed")); });
    } else {
      done(say("copy.failed"));
    }
  }

  function setUp() {
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy-from"));
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        copied(button, source.getAttribute("data-secret") || source.textContent.trim());
      });
    });
    document.querySelectorAll("[data-copy-codes]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        copied(button, codesOf(button.getAttribute("data-copy-codes")).join("\n"));
      });
    });
    document.querySelectorAll("[data-download-codes]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var codes = codesOf(button.getAttribute("data-download-codes"));
        var text = say("codes.heading") + "\n\n" + codes.join("\n") + "\n";
        var link = document.createElement("a");
        link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
        link.download = button.getAttribute("data-filename") || "recovery-codes.txt";
        document.body.appendChild(link);
        link.click();
        window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      });
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }

  function zoneFromBrowser() {
    // The join form's time zone, not chosen yet: the one this browser lives in, if listed.
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { zone = ""; }
    document.querySelectorAll("select[data-zone-from-browser]").forEach(function (select) {
      var listed = Array.prototype.some.call(select.options, function (option) {
        return option.value === zone;
      });
      if (zone && listed) { select.value = zone; }
    });
  }

  function setUpAll() {
    zoneFromBrowser();
    setUp();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
