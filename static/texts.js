// INVICTM Exchange: the words a script shows, in the reader's language. The page renders them
// as the JSON of <body data-texts> (templates/_ui.html, js_texts); no inline script (CSP).
// Loaded first by the base layout, so every other script can call ExchangeTexts.say/sayCount.
"use strict";
(function () {
  var texts = null;
  function all() {
    if (texts === null && document.body) {
      try { texts = JSON.parse(document.body.getAttribute("data-texts") || "{}"); } catch (e) { texts = {}; }
    }
    return texts || {};
  }
  function fill(text, values) {
    return (typeof text === "string" ? text : "").replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : whole;
    });
  }
  // A text by its key; "%(name)s" in it is filled in from `values`.
  function say(key, values) {
    return fill(all()[key], values);
  }
  // A plural: the form given for a sample count in the same plural category as `count`
  // (Intl.PluralRules in the page's language); "%(num)s" is the count.
  function sayCount(key, count, values) {
    var forms = all()[key] || {};
    var text = forms[String(count)];
    if (typeof text !== "string") {
      try {
        var rules = new Intl.PluralRules(document.documentElement.lang || "en");
        var wanted = rules.select(count);
        Object.keys(forms).some(function (sample) {
          if (rules.select(Number(sample)) !== wanted) { return false; }
          text = forms[sample];
          return true;
        });
      } catch (e) { text = forms["5"]; }
    }
    var merged = { num: count };
    Object.keys(values || {}).forEach(function (name) { merged[name] = values[name]; });
    return fill(text, merged);
  }
  window.ExchangeTexts = { say: say, sayCount: sayCount };
})();
