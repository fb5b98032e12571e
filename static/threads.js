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
