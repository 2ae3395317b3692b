// Draws the charts of a page with the vendored Apache ECharts (static/vendor/echarts/). A chart is
//   <div class="dash-chart__canvas" data-chart="ID"></div>  plus  {{ data|json_script:"ID" }}
// where data is {"type": "line"|"bar"|"hbar"|"pie"|"bar-line", "labels": [...], "unit": "元",
// "series": [{"name": "...", "values": [...], "unit": "人次"}]}. No inline script (CSP): the data
// travels as JSON text. Charts follow the window's and their box's size.
(function () {
  "use strict";
  if (!window.echarts) return;
  var PALETTE = ["#b8141b", "#1d5f9e", "#e0a800", "#1f7a3d", "#8f5bb5", "#d2691e", "#2a9d8f", "#6b7280"];
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
    return unit === "元" ? "¥" + text : text + " " + (unit || "");
  }

  function tooltip(unit) {
    return {
      trigger: "axis",
      confine: true,
      valueFormatter: function (v) { return full(v, unit); }
    };
  }

  function option(spec) {
    var unit = spec.unit || "";
    var series = spec.series || [];
    var base = { color: PALETTE, textStyle: { fontFamily: "inherit" }, animation: false };
    if (spec.type === "pie") {
      base.tooltip = { trigger: "item", confine: true, formatter: function (p) {
        return p.name + "<br>" + full(p.value, unit) + "（" + p.percent + "％）";
      } };
      base.legend = { bottom: 0, type: "scroll" };
      base.series = [{
        type: "pie", name: series[0] && series[0].name, radius: narrow.matches ? ["32%", "58%"] : ["38%", "66%"],
        center: ["50%", "45%"], avoidLabelOverlap: true,
        label: { formatter: "{b}\n{d}％" },
        data: spec.labels.map(function (label, i) { return { name: label, value: series[0].values[i] }; })
      }];
      return base;
    }
    var horizontal = spec.type === "hbar";
    var category = {
      type: "category", data: spec.labels,
      axisLabel: { hideOverlap: true, width: narrow.matches ? 72 : 120, overflow: "truncate" },
      axisTick: { alignWithLabel: true }
    };
    if (horizontal) category.inverse = true;
    // Town names under bars: all of them, slanted when they would not fit side by side.
    if (spec.type === "bar" && spec.labels.length > (narrow.matches ? 4 : 8)) {
      category.axisLabel.interval = 0;
      category.axisLabel.rotate = 35;
      category.axisLabel.hideOverlap = false;
    }
    var values = [{ type: "value", axisLabel: { formatter: compact } }];
    if (spec.type === "bar-line") values.push({ type: "value", axisLabel: { formatter: compact }, splitLine: { show: false } });
    base.tooltip = tooltip(unit);
    base.grid = { left: 8, right: 16, top: series.length > 1 ? 36 : 16, bottom: 8, containLabel: true };
    if (series.length > 1) base.legend = { top: 0 };
    base.xAxis = horizontal ? values[0] : category;
    base.yAxis = horizontal ? category : values;
    base.series = series.map(function (s, i) {
      var kind = spec.type === "line" ? "line" : (spec.type === "bar-line" && i > 0 ? "line" : "bar");
      var item = { type: kind, name: s.name, data: s.values, barMaxWidth: 28 };
      if (kind === "line") {
        item.smooth = false;
        item.showSymbol = spec.labels.length <= 31;
        if (spec.type === "line") item.areaStyle = { opacity: 0.12 };
      }
      if (spec.type === "bar-line") item.yAxisIndex = i > 0 ? 1 : 0;
      if (s.unit) item.tooltip = { valueFormatter: function (v) { return full(v, s.unit); } };
      return item;
    });
    return base;
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var source = document.getElementById(box.getAttribute("data-chart"));
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    var hasData = (spec.series || []).some(function (s) {
      return s.values.some(function (v) { return v !== null && v !== undefined; });
    });
    if (!spec.labels || !spec.labels.length || !hasData) {
      box.classList.add("is-empty");
      return;
    }
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
})();
