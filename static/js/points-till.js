// The till: +/− buttons, the running total against the balance, one submit per receipt (a double tap
// never sends twice; the server's idempotency key makes even a resend harmless), and a camera scan of
// the points card where the browser has BarcodeDetector (else a scanner gun types into the search box).
(function () {
  "use strict";
  var form = document.querySelector("[data-till-form]");
  if (form) {
    var balanceNode = document.querySelector("[data-balance]");
    var balance = balanceNode ? parseInt(balanceNode.getAttribute("data-balance"), 10) || 0 : 0;
    var totalNode = form.querySelector("[data-total]");
    var leftNode = form.querySelector("[data-left]");
    var confirm = form.querySelector("[data-confirm]");
    var closed = confirm && confirm.disabled;
    // The words come from the page (translated there); {n} is the number of points.
    var bar = form.querySelector(".till-bar");
    var words = function (name, n) { return (bar.getAttribute("data-text-" + name) || "").replace("{n}", String(n)); };
    var recompute = function () {
      var total = 0;
      form.querySelectorAll("[data-item]").forEach(function (row) {
        var input = row.querySelector("input");
        var n = parseInt(input.value, 10) || 0;
        total += n * (parseInt(row.getAttribute("data-price"), 10) || 0);
        row.classList.toggle("is-chosen", n > 0);
      });
      totalNode.textContent = String(total);
      var left = balance - total;
      leftNode.textContent = left >= 0 ? words("left", left) : words("short", -left);
      leftNode.classList.toggle("is-short", left < 0);
      if (!closed) confirm.disabled = total <= 0 || left < 0;
    };
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-step]");
      if (!button) return;
      var row = button.closest("[data-item]");
      var input = row.querySelector("input");
      var stock = parseInt(row.getAttribute("data-stock"), 10) || 0;
      var n = (parseInt(input.value, 10) || 0) + parseInt(button.getAttribute("data-step"), 10);
      input.value = String(Math.max(0, Math.min(stock, n)));
      recompute();
    });
    form.addEventListener("input", recompute);
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      confirm.disabled = true;
      confirm.textContent = words("sending", 0);
    });
    recompute();
  }

  // Buttons that end something for good (结束兑换日) ask first.
  document.querySelectorAll("button[data-ask]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-ask"))) event.preventDefault();
    });
  });

  var search = document.querySelector("[data-till-search]");
  if (search && "BarcodeDetector" in window && navigator.mediaDevices) {
    var scan = search.querySelector("[data-scan]");
    var video = search.querySelector("[data-scan-video]");
    scan.hidden = false;
    scan.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
        var tick = function () {
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              stop();
              search.querySelector("input[name=q]").value = codes[0].rawValue.trim();
              search.submit();
            } else {
              window.requestAnimationFrame(tick);
            }
          }).catch(function () { window.requestAnimationFrame(tick); });
        };
        tick();
      }).catch(function () { scan.hidden = true; });
    });
  }
})();
