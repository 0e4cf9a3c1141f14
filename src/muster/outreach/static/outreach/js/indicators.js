/* Indicators before and after (outreach's measures page), drawn with ECharts from the JSON the page
   embeds with json_script. Each chart's container holds a server-rendered SVG: it stays when there is no
   script or no ECharts, and is replaced by the chart otherwise. No inline scripts (the CSP forbids them). */
(function () {
  "use strict";

  function option(d, labels) {
    var names = [labels.baseline + " " + d.baseline_on];
    var values = [d.baseline];
    if (d.value !== null) {
      names.push(labels.latest + " " + d.measured_on);
      values.push(d.value);
    }
    return {
      animation: false,
      grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", name: d.unit, nameLocation: "end", min: 0, splitNumber: 3 },
      yAxis: { type: "category", data: names, inverse: true, axisTick: { show: false } },
      series: [{
        type: "bar",
        name: d.name,
        barMaxWidth: 22,
        label: { show: true, position: "right", formatter: "{c} " + d.unit },
        data: values.map(function (v, i) {
          return { value: v, itemStyle: { color: i === 0 ? "#adb5bd" : "#0d6efd" } };
        })
      }]
    };
  }

  function start() {
    var source = document.getElementById("indicator-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var byId = {};
    data.indicators.forEach(function (d) { byId[String(d.id)] = d; });
    Array.prototype.forEach.call(document.querySelectorAll("[data-indicator-chart]"), function (el) {
      var d = byId[el.getAttribute("data-indicator-chart")];
      if (!d) { return; }
      el.textContent = "";  // the SVG fallback makes room for the chart
      el.style.height = "120px";
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option(d, data.labels));
      el.setAttribute("data-chart-ready", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
