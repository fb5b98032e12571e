// Threads: confirm destructive actions; show the participant picker only for TLP:RED.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
document.addEventListener("DOMContentLoaded", () => {
  const choice = document.getElementById("tlp-choice");
  const picker = document.getElementById("participants");
  if (!choice || !picker) return;
  const field = picker.closest(".field");
  const update = () => { field.hidden = choice.value !== "RED"; };
  choice.addEventListener("change", update);
  update();
});
