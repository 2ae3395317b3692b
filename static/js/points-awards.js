// Points awards pages: switch grid on change, select all in the review queue, and never submit twice.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("input[data-check-all]").forEach(function (master) {
    master.addEventListener("change", function () {
      document.querySelectorAll('input[name="' + master.dataset.checkAll + '"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });
  });
  // A double tap must not send the form twice (the idempotency key makes a second send harmless too).
  document.querySelectorAll("button[data-once]").forEach(function (button) {
    button.form && button.form.addEventListener("submit", function () {
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
})();
