/* Report charts (ECharts), drawn from JSON embedded with json_script or fetched from data-url.
   No inline scripts: the Content-Security-Policy forbids them. */
(function () {
  "use strict";

  var COUNTS = ["batches", "person_times", "persons", "community_persons"];
  var HOURS = ["hours", "community_hours"];

  function load(el) {
    var id = el.getAttribute("data-source");
    if (id) {
      var node = document.getElementById(id);
      if (node) { return Promise.resolve(JSON.parse(node.textContent)); }
    }
    var url = el.getAttribute("data-url");
    if (url) {
      return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); });
    }
    return Promise.reject(new Error("no data"));
  }

  function axes(data) {
    return [
      { type: "value", name: data.titles.count_axis, minInterval: 1 },
      { type: "value", name: data.titles.hours_axis, position: "right", splitLine: { show: false } }
    ];
  }

  function legendSelected(data) {
    var selected = {};
    ["persons", "community_persons", "community_hours"].forEach(function (k) { selected[data.labels[k]] = false; });
    return selected;
  }

  function timeOption(data, which) {
    var days = data.days.map(function (p) { return p.day; });
    var series = COUNTS.concat(HOURS).map(function (k) {
      return {
        name: data.labels[k],
        type: which === "daily" && HOURS.indexOf(k) < 0 ? "bar" : "line",
        yAxisIndex: HOURS.indexOf(k) >= 0 ? 1 : 0,
        smooth: which === "cumulative",
        showSymbol: days.length < 40,
        data: data.days.map(function (p) { return p[which][k]; })
      };
    });
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0, selected: legendSelected(data) },
      grid: { left: 50, right: 60, top: 40, bottom: 60 },
      dataZoom: days.length > 31 ? [{ type: "slider" }] : [],
      xAxis: { type: "category", data: days },
      yAxis: axes(data),
      series: series
    };
  }

  function unitsOption(data) {
    var names = data.units.map(function (u) { return u.name; });
    var keys = ["batches", "person_times", "hours"];
    return {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 50, right: 60, top: 40, bottom: 90 },
      xAxis: { type: "category", data: names, axisLabel: { rotate: names.length > 8 ? 40 : 0, interval: 0 } },
      yAxis: axes(data),
      series: keys.map(function (k) {
        return {
          name: data.labels[k],
          type: "bar",
          yAxisIndex: HOURS.indexOf(k) >= 0 ? 1 : 0,
          data: data.units.map(function (u) { return u[k]; })
        };
      })
    };
  }

  function draw(el) {
    if (!window.echarts) { return; }
    load(el).then(function (data) {
      var kind = el.getAttribute("data-chart");
      var chart = window.echarts.init(el);
      chart.setOption(kind === "units" ? unitsOption(data) : timeOption(data, kind));
      window.addEventListener("resize", function () { chart.resize(); });
    }).catch(function () {
      el.textContent = el.getAttribute("data-error") || "";
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
