/* The work-log form: show only the fields that belong to the chosen kind of work (a household for a
   visit, attendees for outreach and meetings, cases for meetings). Without this script every field
   shows, and the server says which ones a kind needs. */
(function () {
  "use strict";
  var form = document.querySelector("[data-worklog-form]");
  if (!form) return;
  var radios = form.querySelectorAll('input[name="kind"]');
  var parts = form.querySelectorAll("[data-show-for]");

  function update() {
    var checked = form.querySelector('input[name="kind"]:checked');
    var kind = checked ? checked.value : "";
    parts.forEach(function (part) {
      var kinds = part.getAttribute("data-show-for").split(" ");
      // A field with an error stays visible whatever the kind, so the message is never hidden.
      var invalid = part.classList.contains("field--invalid");
      part.hidden = !invalid && kind !== "" && kinds.indexOf(kind) === -1;
    });
  }

  radios.forEach(function (radio) { radio.addEventListener("change", update); });
  update();
})();
