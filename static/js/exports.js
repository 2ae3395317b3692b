/* An export's page: poll the job's status document every second and move the progress bar; when the
   job has finished, reload the page so the server renders the download link (or the reason it failed). */
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector(".progress__bar");
  var meter = box.querySelector("[role=progressbar]");
  var percentText = box.querySelector("[data-progress-percent]");
  var stageText = box.querySelector("[data-progress-text]");
  var chip = document.querySelector("[data-testid=export-status]");
  var EVERY = 1000;

  function number(n) {
    return Number(n || 0).toLocaleString("zh-CN");
  }

  function show(job) {
    bar.style.width = job.percent + "%";
    meter.setAttribute("aria-valuenow", job.percent);
    percentText.textContent = job.percent + "%";
    if (chip) {
      chip.textContent = job.status_label;
      chip.className = chip.className.replace(/export-status--\w+/, "export-status--" + job.status);
    }
    if (job.status === "running") {
      stageText.textContent = (box.getAttribute("data-text-running") || "")
        .replace("{done}", number(job.rows_done))
        .replace("{total}", number(job.rows_total));
    } else if (job.status === "queued") {
      stageText.textContent = box.getAttribute("data-text-queued");
    } else {
      stageText.textContent = job.status_label;
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (job) {
          show(job);
          if (job.is_finished) {
            window.location.reload();
            return;
          }
        }
        window.setTimeout(poll, EVERY);
      })
      .catch(function () { window.setTimeout(poll, 3 * EVERY); });
  }

  window.setTimeout(poll, EVERY);
})();
