/* Sales entry at the expo (a tablet) and the product form: filter the exhibitor and product lists as one
   types, show the platform only for online sales, fill a platform with one tap, show the product's unit,
   and put the cursor where the next entry starts. Without JS the form still works (all fields shown). */
(function () {
  "use strict";

  function filterSelect(input) {
    var select = document.getElementById(input.getAttribute("data-filter"));
    if (!select) return;
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase();
      var shown = [];
      Array.prototype.forEach.call(select.options, function (option) {
        var match = !words || option.text.toLowerCase().indexOf(words) !== -1;
        option.hidden = !match;
        if (match) shown.push(option);
      });
      if (shown.length === 1) {
        shown[0].selected = true;
        select.dispatchEvent(new Event("change"));
      }
    });
  }

  function platformToggle(form) {
    var field = document.getElementById("platform-field");
    if (!field) return;
    var online = form.querySelector('input[name="channel"][value="online"]');
    function sync() {
      field.hidden = !(online && online.checked);
    }
    Array.prototype.forEach.call(form.querySelectorAll('input[name="channel"]'), function (radio) {
      radio.addEventListener("change", function () {
        sync();
        if (online.checked) document.getElementById("id_platform").focus();
      });
    });
    Array.prototype.forEach.call(field.querySelectorAll("button[data-platform]"), function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById("id_platform");
        input.value = button.getAttribute("data-platform");
        document.getElementById("id_amount_yuan").focus();
      });
    });
    sync();
  }

  function unitHint() {
    var product = document.getElementById("id_product");
    var unit = document.getElementById("quantity-unit");
    if (!product || !unit) return;
    function sync() {
      var option = product.options[product.selectedIndex];
      unit.textContent = option ? "（" + option.getAttribute("data-unit") + "）" : "";
    }
    product.addEventListener("change", sync);
    sync();
  }

  function firstFocus(form) {
    var invalid = form.querySelector('[aria-invalid="true"]');
    if (invalid) {
      invalid.focus();
      return;
    }
    var exhibitor = document.getElementById("id_exhibitor");
    var target = exhibitor && exhibitor.value ? '[data-filter="id_product"]' : '[data-filter="id_exhibitor"]';
    var input = form.querySelector(target);
    if (input) input.focus({ preventScroll: true });
  }

  function codeSuggestion() {
    var hint = document.getElementById("code-suggestion");
    var category = document.getElementById("id_category");
    if (!hint || !category) return;
    var table = {};
    hint.getAttribute("data-suggestions").split(";").forEach(function (pair) {
      var parts = pair.split("=");
      table[parts[0]] = parts[1];
    });
    var code = document.getElementById("id_code");
    function sync() {
      hint.textContent = table[category.value] || "—";
      if (code) code.placeholder = table[category.value] || "";
    }
    category.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), filterSelect);
    var form = document.querySelector('[data-testid="sale-form"], [data-testid="correct-form"]');
    if (form) {
      platformToggle(form);
      unitHint();
      if (form.getAttribute("data-testid") === "sale-form") firstFocus(form);
    }
    codeSuggestion();
  });
})();
