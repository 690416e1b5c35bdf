// Draws every chart the page placed with the _chart.html macro: the figure JSON (built by
// web/charts.py) sits in a <script type="application/json"> block named by data-chart.
// Without Plotly (or without JavaScript) nothing is drawn and the page's table stays the record.
(function () {
  if (typeof Plotly === "undefined") return;
  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var source = document.getElementById(box.dataset.chart);
    if (!source) return;
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(box, figure.data, figure.layout, figure.config || {}).then(function () {
      box.classList.add("drawn");
    });
  });
})();
