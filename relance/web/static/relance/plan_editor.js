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

// The step's channel decides its form: an SMS has no subject.
(function () {
  "use strict";
  function channelChanged() {
    const select = document.querySelector("#step-form select[name=channel]");
    if (!select) return;
    document.querySelectorAll("#step-form .subject-field").forEach(function (el) {
      el.hidden = select.value === "sms";
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("#step-form select[name=channel]")) {
      channelChanged();
    }
  });
  // A search replaced the preview's customers: preview on the first one found.
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail && event.detail.target;
    if (target && target.id === "preview-customer") {
      target.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
  document.addEventListener("DOMContentLoaded", channelChanged);
})();
