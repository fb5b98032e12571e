// Threads: show the participant picker only for TLP:RED.
// (form[data-confirm] is confirmed by exchange.js on every page: one question, asked once.)
document.addEventListener("DOMContentLoaded", () => {
  const choice = document.getElementById("tlp-choice");
  const picker = document.getElementById("participants");
  if (!choice || !picker) return;
  const field = picker.closest(".field");
  const update = () => { field.hidden = choice.value !== "RED"; };
  choice.addEventListener("change", update);
  update();
});

// The words shown, in the reader's language (static/texts.js).
const say = window.ExchangeTexts.say;

// Fields with a length limit show how much is used; nothing typed is ever cut (the server says
// at the field when a text is too long, and keeps it).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-limit]").forEach((input) => {
    const limit = Number(input.dataset.limit);
    const counter = document.createElement("p");
    counter.className = "counter muted";
    counter.id = `${input.id}-counter`;
    counter.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", counter);
    const described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", described ? `${described} ${counter.id}` : counter.id);
    const update = () => {
      const used = input.value.length;
      const over = used - limit;
      const lang = document.documentElement.lang || undefined;  // the page's language, not the browser's
      const values = { used: used.toLocaleString(lang), limit: limit.toLocaleString(lang), over: over.toLocaleString(lang) };
      counter.textContent = say(over > 0 ? "counter.over" : "counter.used", values);
      counter.classList.toggle("over", over > 0);
    };
    input.addEventListener("input", update);
    update();
  });
});
