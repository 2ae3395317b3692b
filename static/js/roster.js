/* The roster import page: poll the job's status document and move the progress bar; reload the page
   when the job has finished, so the server renders the outcome and the report. */
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector(".progress__bar");
  var meter = box.querySelector("[role=progressbar]");
  var percentText = box.querySelector("[data-progress-percent]");
  var stageText = box.querySelector("[data-progress-text]");
  var delay = 800;

  function fill(template, done, total) {
    return (template || "").replace("{done}", done).replace("{total}", total);
  }

  function show(job) {
    bar.style.width = job.percent + "%";
    meter.setAttribute("aria-valuenow", job.percent);
    percentText.textContent = job.percent + "%";
    if (job.status === "validating") {
      stageText.textContent = fill(box.getAttribute("data-text-validating"), job.processed_rows, job.total_rows);
    } else if (job.status === "importing") {
      stageText.textContent = fill(box.getAttribute("data-text-importing"), job.written_rows, job.valid_rows);
    } else if (job.status === "queued") {
      stageText.textContent = box.getAttribute("data-text-queued");
    } else {
      stageText.textContent = job.status_label;
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (job) {
          if (job.status === "mapping" && job.mapping_url) {
            window.location.assign(job.mapping_url);
            return;
          }
          show(job);
          if (job.is_finished) {
            window.location.reload();
            return;
          }
        }
        delay = Math.min(delay * 1.25, 3000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  poll();
})();
