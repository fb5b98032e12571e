// INVICTM Exchange picker: turns <select data-picker> (one choice or several) into a searchable
// combobox that works by touch and by keyboard (WAI-ARIA combobox with a listbox popup).
// Progressive enhancement: the native select stays in the form and holds the value, so the page
// posts the same thing with or without this file. No inline script or style (CSP).
"use strict";
(function () {
  var MAX_SHOWN = 60;
  var counter = 0;
  // The words this script shows, in the reader's language (static/texts.js).
  var say = window.ExchangeTexts.say;
  var sayCount = window.ExchangeTexts.sayCount;

  function fold(text) {
    return (text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // How well an option matches what was typed (lower is better; -1: not at all): its code
  // typed exactly ("fr" -> France), then its name's start, a word of its name, another name.
  function score(option, query) {
    if (!query) { return 0; }
    if (fold(option.value) === query) { return 0; }
    var name = fold(option.label);
    if (name.indexOf(query) === 0) { return 1; }
    var startsWord = function (term) {
      return fold(term).split(/[\s,()\-]+/).some(function (word) { return word.indexOf(query) === 0; });
    };
    if (startsWord(option.label)) { return 2; }
    var others = (option.terms || "").split("|").filter(Boolean);
    if (others.some(function (term) { return fold(term).indexOf(query) === 0 || startsWord(term); })) { return 3; }
    return -1;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function enhance(select) {
    counter += 1;
    var id = select.id || ("picker-" + counter);
    var multiple = select.multiple;
    var label = document.querySelector('label[for="' + id + '"]');
    var labelText = label ? label.textContent.trim() : (select.getAttribute("aria-label") || say("picker.choose"));
    var options = Array.prototype.map.call(select.options, function (o) {
      return { value: o.value, label: o.textContent.trim(), terms: o.getAttribute("data-terms") || "", node: o };
    });
    var choices = options.filter(function (o) { return o.value !== ""; });
    var blank = options.filter(function (o) { return o.value === ""; })[0];

    var box = el("div", "picker" + (multiple ? " picker-multiple" : " picker-single"));
    var chosen = el("ul", "picker-chosen");
    chosen.setAttribute("aria-label", say("picker.chosen_list", { label: labelText }));
    var input = el("input", "picker-input");
    input.type = "text";
    input.id = id + "-search";
    input.autocomplete = "off";
    input.setAttribute("autocapitalize", "off");
    input.setAttribute("spellcheck", "false");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-list");
    input.placeholder = multiple ? say("picker.search_many") : say("picker.search_one");
    var described = [];
    var error = document.getElementById(id + "-error") ||
      (select.parentNode && select.parentNode.querySelector(".field-error"));
    if (error) {
      if (!error.id) { error.id = id + "-error"; }
      described.push(error.id);
      input.setAttribute("aria-invalid", "true");
    }
    var hint = el("span", "picker-hint", multiple ? say("picker.hint_many") : say("picker.hint_one"));
    hint.id = id + "-hint";
    described.push(hint.id);
    input.setAttribute("aria-describedby", described.join(" "));
    var list = el("ul", "picker-list");
    list.id = id + "-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", labelText);
    if (multiple) { list.setAttribute("aria-multiselectable", "true"); }
    list.hidden = true;
    var status = el("p", "picker-status");
    status.setAttribute("role", "status");
    var active = -1;
    var shown = [];

    if (label) { label.setAttribute("for", input.id); label.id = label.id || id + "-label"; }
    select.classList.add("picker-native");
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(box, select);
    if (multiple) { box.appendChild(chosen); }
    box.appendChild(input);
    box.appendChild(hint);
    box.appendChild(list);
    box.appendChild(status);
    box.appendChild(select);

    function selectedOptions() { return choices.filter(function (o) { return o.node.selected; }); }

    function renderChosen() {
      if (!multiple) {
        var one = selectedOptions()[0];
        if (document.activeElement !== input) { input.value = one ? one.label : ""; }
        return;
      }
      chosen.textContent = "";
      selectedOptions().forEach(function (o) {
        var item = el("li", "picker-chip");
        item.appendChild(el("span", "", o.label));
        var remove = el("button", "picker-remove", "\u00d7");
        remove.type = "button";
        remove.setAttribute("aria-label", say("picker.remove", { item: o.label }));
        remove.addEventListener("click", function () {
          toggle(o);
          input.focus();
        });
        item.appendChild(remove);
        chosen.appendChild(item);
      });
      chosen.hidden = !selectedOptions().length;
    }

    function setActive(index) {
      var items = list.querySelectorAll("[role=option]");
      items.forEach(function (item) { item.classList.remove("active"); });
      active = index;
      if (index >= 0 && items[index]) {
        items[index].classList.add("active");
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function renderList() {
      var query = fold(input.value.trim());
      if (!multiple && selectedOptions()[0] && input.value === selectedOptions()[0].label) { query = ""; }
      var found = choices.map(function (o, i) { return { o: o, s: score(o, query), i: i }; })
        .filter(function (m) { return m.s >= 0; })
        .sort(function (a, b) { return a.s - b.s || a.i - b.i; })
        .map(function (m) { return m.o; });
      shown = (!query && blank && !multiple ? [blank] : []).concat(found.slice(0, MAX_SHOWN));
      list.textContent = "";
      shown.forEach(function (o, i) {
        var item = el("li", "picker-option", o.value === "" ? say("picker.none") : o.label);
        item.id = id + "-opt-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", o.node.selected && o.value !== "" ? "true" : "false");
        item.addEventListener("mousedown", function (event) { event.preventDefault(); });
        item.addEventListener("click", function () { toggle(o); });
        list.appendChild(item);
      });
      if (!found.length) {
        var none = el("li", "picker-empty", say("picker.nothing", { text: input.value.trim() }));
        list.appendChild(none);
      }
      status.textContent = found.length > MAX_SHOWN ?
        say("picker.showing", { shown: MAX_SHOWN, total: found.length }) :
        sayCount("picker.matches", found.length);
      setActive(shown.length ? 0 : -1);
    }

    function open() {
      if (!list.hidden) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      renderList();
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function toggle(o) {
      if (multiple) {
        o.node.selected = !o.node.selected;
        status.textContent = say(o.node.selected ? "picker.chosen" : "picker.removed", { item: o.label });
        input.value = "";
      } else {
        select.value = o.value;
        input.value = o.value === "" ? "" : o.label;
        status.textContent = o.value === "" ? say("picker.no_choice") : say("picker.chosen", { item: o.label });
        close();
      }
      select.dispatchEvent(new Event("change", { bubbles: true }));
      unwarn();
      renderChosen();
      if (multiple && !list.hidden) { renderList(); }
    }

    input.addEventListener("focus", function () { if (!multiple) { input.select(); } });
    input.addEventListener("click", open);
    input.addEventListener("input", function () { list.hidden ? open() : renderList(); });
    // Text typed but never chosen is not silently dropped: it stays, said in words, and the
    // form is not sent until it is chosen from the list or cleared.
    var warning = null;
    function unchosen() {
      var text = input.value.trim();
      if (!text) { return ""; }
      var one = selectedOptions()[0];
      return (!multiple && one && input.value === one.label) ? "" : text;
    }
    function warn(text) {
      if (!warning) {
        warning = el("p", "field-error picker-warning");
        warning.setAttribute("role", "alert");
        input.insertAdjacentElement("afterend", warning);
      }
      warning.textContent = say("picker.not_in_list", { text: text });
      input.setAttribute("aria-invalid", "true");
    }
    function unwarn() {
      if (warning) { warning.parentNode.removeChild(warning); warning = null; }
      input.removeAttribute("aria-invalid");
    }
    input.addEventListener("blur", function () {
      close();
      var text = unchosen();
      if (text) { warn(text); return; }
      unwarn();
      if (!multiple) { renderChosen(); }
    });
    if (select.form) {
      select.form.addEventListener("submit", function (event) {
        var text = unchosen();
        if (text) { event.preventDefault(); warn(text); input.focus(); }
      });
    }
    input.addEventListener("keydown", function (event) {
      var key = event.key;
      if (key === "ArrowDown" || key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { open(); return; }
        var next = active + (key === "ArrowDown" ? 1 : -1);
        setActive(Math.max(0, Math.min(shown.length - 1, next)));
      } else if (key === "Enter") {
        if (!list.hidden && active >= 0 && shown[active]) {
          event.preventDefault();  // choosing must not submit the form
          toggle(shown[active]);
        }
      } else if (key === "Escape") {
        if (!list.hidden) { event.preventDefault(); close(); if (!multiple) { renderChosen(); } }
      } else if (key === "Backspace" && multiple && input.value === "") {
        var last = selectedOptions().pop();
        if (last) { toggle(last); }
      }
    });
    select.addEventListener("change", renderChosen);
    renderChosen();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-picker]").forEach(enhance);
  });
})();
