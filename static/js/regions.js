/* The township → village (→ grid) picker (templates/governance/regions/_picker.html).

   Without JavaScript the form shows one <select> grouped by <optgroup>, and that select is always what
   is submitted. Here each level above it becomes its own select, filled from the picker endpoint
   (GET ?parent=<id>&purpose=<form>, JSON, limited to the user's scope); choosing one fills the next,
   and the last fills the real select. If the endpoint cannot be read, the grouped select comes back. */
(function () {
  "use strict";

  function option(value, label) {
    var node = document.createElement("option");
    node.value = value;
    node.textContent = label;
    return node;
  }

  function fill(select, placeholder, choices, wanted) {
    select.textContent = "";
    select.appendChild(option("", placeholder));
    choices.forEach(function (choice) {
      select.appendChild(option(String(choice.id), choice.name));
    });
    var value = "";
    if (wanted && choices.some(function (c) { return String(c.id) === String(wanted); })) value = String(wanted);
    else if (choices.length === 1) value = String(choices[0].id);  // one choice: nothing to decide
    select.value = value;
    select.disabled = choices.length === 0;
    return value;
  }

  function wait(select, text) {
    select.textContent = "";
    select.appendChild(option("", text));
    select.value = "";
    select.disabled = true;
  }

  function setUp(root) {
    var url = root.getAttribute("data-url");
    var purpose = root.getAttribute("data-purpose") || "";
    var steps = Array.prototype.slice.call(root.querySelectorAll("[data-step]"));
    var targetBox = root.querySelector(".region-picker__target");
    var target = targetBox.querySelector("select");
    var failed = root.querySelector("[data-failed]");
    var original = target.innerHTML;
    var wantedTarget = target.value;
    var selects = steps.map(function (step) { return step.querySelector("select"); });
    var wanted = steps.map(function (step) { return step.getAttribute("data-selected") || ""; });
    var exclude = root.getAttribute("data-exclude") || "";
    var generation = 0;

    function load(parent) {
      var query = "?purpose=" + encodeURIComponent(purpose) + (parent ? "&parent=" + encodeURIComponent(parent) : "");
      return fetch(url + query, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      });
    }

    function giveUp() {
      // Back to the grouped select: every choice in one list, as without JavaScript.
      steps.forEach(function (step) { step.hidden = true; });
      target.innerHTML = original;
      target.value = wantedTarget;
      target.disabled = false;
      failed.hidden = false;
    }

    // Fill level `index` (selects.length = the real select) with the children of `parent`, then go on
    // down while a choice is made (kept from before, or the only one).
    function step(index, parent) {
      var mine = ++generation;
      for (var i = index; i < selects.length; i++) wait(selects[i], selects[i].getAttribute("data-waiting"));
      wait(target, index < selects.length ? targetBox.getAttribute("data-waiting") : targetBox.getAttribute("data-loading"));
      if (index > 0 && !parent) return Promise.resolve();
      if (index < selects.length) selects[index].firstChild.textContent = targetBox.getAttribute("data-loading");
      return load(parent).then(function (body) {
        if (mine !== generation) return;  // a later choice has started its own load
        if (index === selects.length) {
          var choices = body.choices.filter(function (c) { return String(c.id) !== exclude; });
          fill(target, targetBox.getAttribute("data-placeholder"), choices, wantedTarget);
          return;
        }
        var chosen = fill(selects[index], selects[index].getAttribute("data-placeholder"), body.choices, wanted[index]);
        wanted[index] = "";
        if (chosen) return step(index + 1, chosen);
      });
    }

    selects.forEach(function (select, index) {
      select.addEventListener("change", function () {
        wantedTarget = "";
        step(index + 1, select.value).catch(giveUp);
      });
    });
    target.addEventListener("change", function () { wantedTarget = target.value; });

    steps.forEach(function (s) { s.hidden = false; });
    step(0, "").catch(giveUp);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-region-picker]"), setUp);
})();
