// The counter: one submit per form (a double tap never sends twice; the server's idempotency key makes
// even a resend harmless). A scanner gun types the card code into the search box and presses Enter.
(function () {
  "use strict";
  document.querySelectorAll("form[data-ct-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
    });
  });
  // Choosing take-away or delivery in a result row keeps the row's deliverer next to it.
  document.querySelectorAll("details.ct-more").forEach(function (more) {
    more.addEventListener("toggle", function () {
      if (!more.open) {
        var dineIn = more.querySelector("input[value=dine_in]");
        if (dineIn) dineIn.checked = true;
      }
    });
  });
})();
