// The county dashboard (governance/views/dashboard.py): draws the charts with the vendored Apache ECharts
// (static/vendor/echarts/), shows only the period fields the chosen kind needs, sends the ranking form
// when its metric changes, and prints the page as the monthly report. No inline script (CSP): a chart is
//   <div data-chart="ID"></div>  plus  {{ data|json_script:"ID" }}
// where data is {"type": "line"|"bar"|"hbar", "labels": [...], "unit": "元", "series": [{"name", "values"}]}.
(function () {
  "use strict";
  document.documentElement.classList.add("xd-js");

  // --- the period picker: the fields of the chosen kind only (all of them without script) ---
  var picker = document.querySelector("[data-period-picker]");
  if (picker) {
    var kind = picker.querySelector("select[name=period]");
    var fields = picker.querySelectorAll("[data-for]");
    var show = function () {
      fields.forEach(function (box) {
        var wanted = box.getAttribute("data-for").split(" ").indexOf(kind.value) >= 0;
        box.hidden = !wanted;
        // A hidden field is not sent: the server reads only the chosen kind's fields anyway.
        box.querySelectorAll("input, select").forEach(function (input) { input.disabled = !wanted; });
      });
    };
    kind.addEventListener("change", show);
    show();
  }

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // --- charts ---
  if (!window.echarts) return;
  var PALETTE = ["#b8141b", "#1d5f9e", "#e0a800", "#1f7a3d", "#8f5bb5", "#d2691e"];
  var narrow = window.matchMedia("(max-width: 40rem)");

  function trim(text) { return text.replace(/\.0$/, ""); }

  // Axis labels: 3.2亿, 45万, 800 (the tooltip shows the exact figure).
  function compact(value) {
    var n = Math.abs(value);
    if (n >= 1e8) return trim((value / 1e8).toFixed(n >= 1e9 ? 0 : 1)) + "亿";
    if (n >= 1e4) return trim((value / 1e4).toFixed(n >= 1e5 ? 0 : 1)) + "万";
    return String(Math.round(value * 100) / 100);
  }

  function full(value, unit) {
    if (value === null || value === undefined || value === "-") return "—";
    var text = Number(value).toLocaleString("zh-CN", { maximumFractionDigits: 2 });
    if (unit === "元") return "¥" + text;
    return unit === "%" ? text + "%" : text + " " + (unit || "");
  }

  function option(spec) {
    var unit = spec.unit || "";
    var series = spec.series || [];
    var horizontal = spec.type === "hbar";
    var category = {
      type: "category", data: spec.labels,
      axisLabel: { hideOverlap: true, width: narrow.matches ? 72 : 120, overflow: "truncate" },
      axisTick: { alignWithLabel: true }
    };
    if (horizontal) category.inverse = true;
    var value = { type: "value", axisLabel: { formatter: compact } };
    if (unit === "%") value.max = 100;
    // Counts (件, 人次, 分) are whole: no 0.5 steps on the axis of small figures.
    else if (unit !== "元") value.minInterval = 1;
    return {
      color: PALETTE, textStyle: { fontFamily: "inherit" }, animation: false,
      tooltip: { trigger: "axis", confine: true, valueFormatter: function (v) { return full(v, unit); } },
      legend: series.length > 1 ? { top: 0, type: "scroll" } : undefined,
      grid: { left: 8, right: 16, top: series.length > 1 ? 36 : 16, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series.map(function (s) {
        var item = { type: spec.type === "line" ? "line" : "bar", name: s.name, data: s.values, barMaxWidth: 28 };
        if (item.type === "line") {
          item.showSymbol = spec.labels.length <= 31;
          if (series.length === 1) item.areaStyle = { opacity: 0.12 };
        }
        return item;
      })
    };
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var source = document.getElementById(box.getAttribute("data-chart"));
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var hasData = (spec.series || []).some(function (s) {
      return s.values.some(function (v) { return v !== null && v !== undefined && v !== 0; });
    });
    if (!spec.labels || !spec.labels.length || !hasData) {
      box.classList.add("is-empty");
      return;
    }
    if (spec.type === "hbar") box.style.height = Math.max(200, spec.labels.length * 26 + 40) + "px";
    var chart = window.echarts.init(box, null, { renderer: "canvas" });
    chart.setOption(option(spec));
    charts.push(chart);
    if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(box);
  });
  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { charts.forEach(function (c) { c.resize(); }); });
  });
  // Charts are drawn for the screen's width; the printed page is narrower.
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (c) { c.resize(); }); });
})();
