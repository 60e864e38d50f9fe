// Plan editor: insert a merge field where the cursor was in the subject or the text.
(function () {
  "use strict";
  let target = null;
  document.addEventListener("focusin", function (event) {
    const el = event.target;
    if (el.matches && el.matches("#step-form input[name=subject], #step-form textarea[name=body]")) {
      target = el;
    }
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-insert]");
    if (!button) return;
    const field = target || document.querySelector("#step-form textarea[name=body]");
    if (!field || field.disabled) return;
    const code = button.getAttribute("data-insert");
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? field.value.length;
    field.value = field.value.slice(0, start) + code + field.value.slice(end);
    field.focus();
    field.selectionStart = field.selectionEnd = start + code.length;
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
