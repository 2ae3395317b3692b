/* The Party area's forms (templates/governance/party/).

   1. The person picker (_picker.html). Without JavaScript its 查找 button posts the form back and the
      page comes back with the matches. Here the matches are fetched as the user types (GET
      party_pick: an HTML fragment of radio buttons, limited to the user's scope) and the button only
      searches; Enter in the search box searches instead of submitting the form.
   2. The new-organisation form (org_form.html). Without JavaScript every parent, region and village the
      user may use is listed. Here the kind narrows the parents (the kinds it may sit under) and the
      regions (its level), the parent narrows the regions and villages (inside the parent's region),
      and the villages are only shown for a joint committee, its lead village (the region) ticked. */
(function () {
  "use strict";

  // ---- 1. the person picker ----------------------------------------------------------------------

  function setUpPicker(root) {
    var url = root.getAttribute("data-url");
    var purpose = root.getAttribute("data-purpose");
    var name = root.getAttribute("data-name");
    var box = root.querySelector("[data-pick-q]");
    var button = root.querySelector("[data-pick-go]");
    var results = root.querySelector("[data-pick-results]");
    var timer = null;
    var generation = 0;
    var last = box.value.trim();

    button.type = "button";  // Enter in another field submits the form, not a search
    button.removeAttribute("name");

    function checked() {
      var radio = results.querySelector("input[type=radio]:checked");
      return radio ? radio.value : "";
    }

    function search() {
      var text = box.value.trim();
      last = text;
      var mine = ++generation;
      var query = "?purpose=" + encodeURIComponent(purpose) + "&name=" + encodeURIComponent(name) +
        "&q=" + encodeURIComponent(text) + "&selected=" + encodeURIComponent(checked());
      results.classList.add("is-loading");
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          if (mine !== generation) return;  // a newer search is on its way
          results.innerHTML = html;
          results.classList.remove("is-loading");
        })
        .catch(function () {
          if (mine !== generation) return;
          results.classList.remove("is-loading");
          // Fall back to the plain form post, which searches on the server.
          button.type = "submit";
          button.name = "_pick";
        });
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      if (box.value.trim() === last) return;
      timer = setTimeout(search, 350);
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        clearTimeout(timer);
        search();
      }
    });
    button.addEventListener("click", function (event) {
      if (button.type === "submit") return;
      event.preventDefault();
      clearTimeout(timer);
      search();
    });
  }

  // ---- 2. the new-organisation form ---------------------------------------------------------------

  function snapshot(select) {
    // The options as the server sent them, grouped as they were, to rebuild filtered copies from.
    var groups = [];
    Array.prototype.forEach.call(select.children, function (child) {
      if (child.tagName === "OPTGROUP") {
        groups.push({ label: child.label, options: Array.prototype.slice.call(child.children) });
      } else {
        groups.push({ label: null, options: [child] });
      }
    });
    return groups;
  }

  function rebuild(select, groups, keep) {
    var wanted = select.value;
    select.textContent = "";
    groups.forEach(function (group) {
      var kept = group.options.filter(function (option) { return option.value === "" || keep(option); });
      if (!kept.length) return;
      var parent = select;
      if (group.label !== null) {
        parent = document.createElement("optgroup");
        parent.label = group.label;
        select.appendChild(parent);
      }
      kept.forEach(function (option) { parent.appendChild(option); });
    });
    var values = Array.prototype.map.call(select.options, function (o) { return o.value; });
    select.value = values.indexOf(wanted) >= 0 ? wanted : "";
    var real = values.filter(function (v) { return v !== ""; });
    if (!select.value && real.length === 1) select.value = real[0];  // one choice: nothing to decide
  }

  function setUpOrgForm(form) {
    var rulesNode = document.getElementById("org-kind-rules");
    if (!rulesNode) return;
    var rules = JSON.parse(rulesNode.textContent);
    var kind = form.querySelector("select[name=kind]");
    var parent = form.querySelector("[data-org-parent]");
    var region = form.querySelector("[data-org-region]");
    var villages = form.querySelector("[data-org-villages]");
    var parentGroups = snapshot(parent);
    var regionGroups = snapshot(region);

    function parentPath() {
      var option = parent.options[parent.selectedIndex];
      return option ? option.getAttribute("data-region-path") || "" : "";
    }

    function sync(changed) {
      var rule = rules[kind.value];
      if (rule) {
        rebuild(parent, parentGroups, function (option) {
          return rule.parents.indexOf(option.getAttribute("data-kind")) >= 0;
        });
        if (!rule.parents.length) parent.value = "";
      }
      var under = parentPath();
      rebuild(region, regionGroups, function (option) {
        var path = option.getAttribute("data-path") || "";
        if (rule && rule.level && option.getAttribute("data-level") !== rule.level) return false;
        return !under || path.indexOf(under) === 0;
      });
      var joint = kind.value === "joint_committee";
      villages.hidden = !joint;
      Array.prototype.forEach.call(villages.querySelectorAll("[data-township-path]"), function (group) {
        var path = group.getAttribute("data-township-path");
        var shown = joint && (!under || path.indexOf(under) === 0 || under.indexOf(path) === 0);
        group.hidden = !shown;
        if (!shown && changed) {
          Array.prototype.forEach.call(group.querySelectorAll("input"), function (box) { box.checked = false; });
        }
      });
      if (!joint && changed) {
        Array.prototype.forEach.call(villages.querySelectorAll("input"), function (box) { box.checked = false; });
      }
      lead();
    }

    function lead() {
      // The lead village (the region) is always covered: shown ticked and fixed. A disabled box is not
      // sent; the service adds the lead village itself.
      Array.prototype.forEach.call(villages.querySelectorAll("input"), function (box) {
        var isLead = box.value === region.value;
        if (box.disabled && !isLead) box.checked = false;
        box.disabled = isLead;
        if (isLead) box.checked = true;
        box.closest("label").classList.toggle("is-lead", isLead);
      });
    }

    kind.addEventListener("change", function () { sync(true); });
    parent.addEventListener("change", function () { sync(true); });
    region.addEventListener("change", lead);
    sync(false);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-picker]"), setUpPicker);
    Array.prototype.forEach.call(document.querySelectorAll("[data-org-form]"), setUpOrgForm);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
