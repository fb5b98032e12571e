// INVICTM Exchange: progressive enhancements only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // A refused form: its problems, listed at its top, take the focus (and the screen) first.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  // Buttons that ask for confirmation carry data-confirm (no inline script anywhere).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
});
