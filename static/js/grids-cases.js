// Pages of grids' cases: the triage queue, the case page, mediation and feedback projects.
// Progressive: every page works without this file; it adds the conveniences below.
(function () {
  "use strict";

  // A section whose body lives at another URL (e.g. a region page's "民情项目"): load it in place.
  document.querySelectorAll("[data-gc-fragment]").forEach(function (section) {
    var url = section.getAttribute("data-gc-fragment");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) section.innerHTML = html; })
      .catch(function () { /* keep the link that is already there */ });
  });

  // Keep the current tab in view on a phone (the strip scrolls sideways).
  document.querySelectorAll(".gc-tabs").forEach(function (tabs) {
    var current = tabs.querySelector(".is-current");
    if (current && tabs.scrollWidth > tabs.clientWidth) {
      var offset = current.getBoundingClientRect().left - tabs.getBoundingClientRect().left;
      tabs.scrollLeft += offset - (tabs.clientWidth - current.offsetWidth) / 2;
    }
  });

  // The queue's bulk accept: "select all on this page" and the count on the button.
  document.querySelectorAll("[data-gc-bulk]").forEach(function (form) {
    var all = form.querySelector("[data-gc-check-all]");
    var counter = form.querySelector("[data-gc-selected]");
    var boxes = form.querySelectorAll('input[name="cases"]');
    function update() {
      var n = 0;
      boxes.forEach(function (box) {
        if (box.checked) n += 1;
        var row = box.closest("li");
        if (row) row.classList.toggle("is-picked", box.checked);
      });
      if (counter) counter.textContent = n ? "（" + n + "）" : "";
      if (all) {
        all.checked = n > 0 && n === boxes.length;
        all.indeterminate = n > 0 && n < boxes.length;
      }
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    update();
  });

  // Action forms on the case page: one open at a time; opening one scrolls it into view on a phone.
  var actions = document.querySelectorAll("details[data-gc-action]");
  actions.forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open) return;
      actions.forEach(function (other) { if (other !== details) other.open = false; });
      var field = details.querySelector("textarea, input:not([type=hidden]), select");
      if (field && window.matchMedia("(max-width: 40rem)").matches) {
        details.scrollIntoView({ block: "start", behavior: "smooth" });
      }
    });
  });

  // A response template (模板) button fills the note it belongs to, without losing what was typed.
  document.querySelectorAll("[data-gc-template]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-gc-template"));
      if (!target) return;
      var text = button.getAttribute("data-text") || "";
      target.value = target.value.trim() ? target.value.replace(/\s+$/, "") + "\n" + text : text;
      target.focus();
    });
  });
})();
