/* The sales import page: poll the job's small progress document every second and move the bar; reload
   the page when the job has finished, so the server renders the outcome and the error table. */
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector(".progress__bar");
  var meter = box.querySelector("[role=progressbar]");
  var percentText = box.querySelector("[data-progress-percent]");
  var stageText = box.querySelector("[data-progress-text]");
  var chip = document.querySelector("[data-job-status]");

  function fill(template, done, total) {
    return (template || "").replace("{done}", done.toLocaleString()).replace("{total}", total.toLocaleString());
  }

  function show(job) {
    if (chip) {
      chip.textContent = job.status_label;
      chip.className = chip.className.replace(/si-status--\w+/, "si-status--" + job.status);
    }
    bar.style.width = job.percent + "%";
    meter.setAttribute("aria-valuenow", job.percent);
    percentText.textContent = job.percent + "%";
    var template = box.getAttribute("data-text-" + job.phase);
    if (job.phase === "queued") {
      stageText.textContent = template;
    } else if (template) {
      stageText.textContent = fill(template, job.processed_rows, job.total_rows);
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
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, 300);
})();
