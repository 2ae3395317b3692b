/* Small page behaviours that used to be inline event handlers (onclick, onchange, onsubmit), which the
   Content-Security-Policy (script-src 'self', no 'unsafe-inline') refuses to run:
   - data-print-page on a button: prints the page;
   - data-submit-on-change on a select: submits its form when the choice changes;
   - data-confirm-submit="question" on a form: asks before submitting. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print-page]");
    if (button) {
      event.preventDefault();
      window.print();
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-submit-on-change]");
    if (field && field.form) {
      if (field.form.requestSubmit) field.form.requestSubmit();
      else field.form.submit();
    }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm-submit]");
    if (form && !window.confirm(form.getAttribute("data-confirm-submit"))) event.preventDefault();
  });
})();
