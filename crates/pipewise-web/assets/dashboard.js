// Pipewise dashboard charts, drawn with the vendored uPlot from the JSON data block
// <script type="application/json" id="dashboard-data"> (data, not code: the CSP allows no inline
// script). Every chart has a data table on the page, so nothing is lost without this script.
(function () {
  "use strict";

  var block = document.getElementById("dashboard-data");
  if (!block || typeof uPlot === "undefined") return;
  var data;
  try {
    data = JSON.parse(block.textContent);
  } catch (error) {
    return;
  }
  var localeTag = data.locale === "ko" ? "ko-KR" : "en-US";
  var compact = new Intl.NumberFormat(localeTag, { notation: "compact", maximumFractionDigits: 1 });
  var whole = new Intl.NumberFormat(localeTag, { maximumFractionDigits: 0 });
  var dayFormat = new Intl.DateTimeFormat(localeTag, { month: "short", day: "numeric", timeZone: "UTC" });
  var colors = {
    amount: "#4f46e5",
    weighted: "#a5b4fc",
    up: "#18794e",
    down: "#c8352b",
    total: "#4f46e5",
    flat: "#98a2b3",
    winRate: "#b54708",
    grid: "#eef0f3",
    text: "#667085"
  };

  function money(value) {
    return value == null ? "—" : data.currency + " " + compact.format(value);
  }

  // A category label in at most two lines of `max` characters each.
  // Widths in Latin characters: Hangul and other wide characters count twice.
  function widthOf(text) {
    var width = 0;
    for (var index = 0; index < text.length; index++) width += text.charCodeAt(index) >= 0x1100 ? 2 : 1;
    return width;
  }

  function clip(text, max) {
    if (widthOf(text) <= max) return text;
    var out = "";
    for (var index = 0; index < text.length && widthOf(out + text[index]) < max; index++) out += text[index];
    return out + "…";
  }

  function wrapLabel(text, max) {
    if (widthOf(text) <= max) return text;
    var words = text.split(/\s+/);
    var lines = [""];
    words.forEach(function (word) {
      var line = lines[lines.length - 1];
      if (!line.length) lines[lines.length - 1] = word;
      else if (widthOf(line + " " + word) <= max) lines[lines.length - 1] = line + " " + word;
      else lines.push(word);
    });
    if (lines.length > 2) lines = [lines[0], lines.slice(1).join(" ")];
    return lines.map(function (line) { return clip(line, max); }).join("\n");
  }

  function axisStyle(extra) {
    var axis = { stroke: colors.text, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid, width: 1 } };
    for (var key in extra) axis[key] = extra[key];
    return axis;
  }

  var charts = [];

  function containerWidth(element) {
    return Math.max(240, Math.floor(element.clientWidth || element.parentElement.clientWidth || 480));
  }

  function mount(element, makeOptions, series) {
    if (!element) return;
    var options = makeOptions(containerWidth(element));
    var plot = new uPlot(options, series, element);
    element.classList.add("is-drawn");
    charts.push({ element: element, plot: plot });
  }

  // Categorical x: indexes 0..n-1 with the labels as tick text.
  function categoryAxis(labels) {
    return axisStyle({
      splits: function () { return labels.map(function (_, index) { return index; }); },
      values: function (plot, splits) {
        var step = plot.bbox.width / (window.devicePixelRatio || 1) / Math.max(labels.length, 1);
        var max = Math.max(4, Math.floor(step / 6.8));
        return splits.map(function (index) { return labels[index] == null ? "" : wrapLabel(labels[index], max); });
      },
      grid: { show: false },
      size: 48
    });
  }

  function categoryScale(count) {
    return { time: false, range: function () { return [-0.5, Math.max(count, 1) - 0.5]; } };
  }

  // Pipeline by stage: amount and weighted amount side by side.
  function drawStages() {
    var stages = data.stages;
    var labels = stages.labels;
    if (!labels.length) return;
    var xs = labels.map(function (_, index) { return index; });
    var bars = uPlot.paths.bars;
    mount(document.getElementById("chart-stages"), function (width) {
      return {
        width: width,
        height: 240,
        scales: { x: categoryScale(labels.length), y: { range: function (_, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
        axes: [categoryAxis(labels), axisStyle({ values: function (_, values) { return values.map(money); }, size: 84 })],
        legend: { live: true },
        cursor: { points: { show: false } },
        series: [
          { label: data.text.stage, value: function (_, index) { return index == null ? "" : labels[index]; } },
          {
            label: data.text.amount,
            fill: colors.amount,
            stroke: colors.amount,
            paths: bars({ size: [0.36, 48], align: -1 }),
            points: { show: false },
            value: function (_, value) { return money(value); }
          },
          {
            label: data.text.weighted,
            fill: colors.weighted,
            stroke: colors.weighted,
            paths: bars({ size: [0.36, 48], align: 1 }),
            points: { show: false },
            value: function (_, value) { return money(value); }
          }
        ]
      };
    }, [xs, stages.amount, stages.weighted]);
  }

  // Waterfall: floating bars from the running total, drawn in a draw hook.
  function drawWaterfall() {
    var waterfall = data.waterfall;
    var labels = waterfall.labels;
    var xs = labels.map(function (_, index) { return index; });
    var low = waterfall.low;
    var high = waterfall.high;
    mount(document.getElementById("chart-waterfall"), function (width) {
      return {
        width: width,
        height: 240,
        scales: {
          x: categoryScale(labels.length),
          y: {
            range: function () {
              var min = Math.min.apply(null, low.concat([0]));
              var max = Math.max.apply(null, high.concat([0]));
              return [min, max > min ? max * 1.08 : min + 1];
            }
          }
        },
        axes: [categoryAxis(labels), axisStyle({ values: function (_, values) { return values.map(money); }, size: 84 })],
        legend: { show: false },
        cursor: { show: false },
        series: [
          {},
          { label: "high", paths: function () { return null; }, points: { show: false } },
          { label: "low", paths: function () { return null; }, points: { show: false } }
        ],
        hooks: {
          draw: [
            function (plot) {
              var context = plot.ctx;
              var step = Math.abs(plot.valToPos(1, "x", true) - plot.valToPos(0, "x", true));
              var barWidth = Math.max(4, step * 0.6);
              context.save();
              for (var index = 0; index < labels.length; index++) {
                var center = plot.valToPos(index, "x", true);
                var top = plot.valToPos(high[index], "y", true);
                var bottom = plot.valToPos(low[index], "y", true);
                context.fillStyle = colors[waterfall.kind[index]] || colors.flat;
                context.fillRect(center - barWidth / 2, top, barWidth, Math.max(1, bottom - top));
              }
              context.restore();
            }
          ]
        }
      };
    }, [xs, high, low]);
  }

  function timeAxis() {
    return axisStyle({
      values: function (_, splits) { return splits.map(function (seconds) { return dayFormat.format(new Date(seconds * 1000)); }); },
      space: 60
    });
  }

  // Trends: the open pipeline (amount and weighted) and the win rate, weekly.
  function drawTrends() {
    var trend = data.trend;
    if (trend.time.length < 2) return;
    var dayValue = function (_, seconds) { return seconds == null ? "" : dayFormat.format(new Date(seconds * 1000)); };
    mount(document.getElementById("chart-trend-pipeline"), function (width) {
      return {
        width: width,
        height: 200,
        scales: { x: { time: true }, y: { range: function (_, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
        axes: [timeAxis(), axisStyle({ values: function (_, values) { return values.map(money); }, size: 84 })],
        series: [
          { label: data.text.week, value: dayValue },
          { label: data.text.amount, stroke: colors.amount, width: 2, value: function (_, value) { return money(value); } },
          { label: data.text.weighted, stroke: colors.weighted, width: 2, dash: [6, 4], value: function (_, value) { return money(value); } }
        ]
      };
    }, [trend.time, trend.pipeline, trend.weighted]);
    mount(document.getElementById("chart-trend-win"), function (width) {
      return {
        width: width,
        height: 170,
        scales: { x: { time: true }, y: { range: [0, 100] } },
        axes: [timeAxis(), axisStyle({ values: function (_, values) { return values.map(function (value) { return whole.format(value) + "%"; }); }, size: 50 })],
        series: [
          { label: data.text.week, value: dayValue },
          {
            label: data.text.win_rate,
            stroke: colors.winRate,
            width: 2,
            spanGaps: true,
            value: function (_, value) { return value == null ? "—" : value.toFixed(1) + "%"; }
          }
        ]
      };
    }, [trend.time, trend.win_rate]);
  }

  drawStages();
  drawWaterfall();
  drawTrends();

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (chart) {
        chart.plot.setSize({ width: containerWidth(chart.element), height: chart.plot.height });
      });
    }, 150);
  });

  // The subject picker and other filters apply on change (the Show button stays for no-JS).
  var form = document.getElementById("dash-filters");
  if (form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
  }
})();
