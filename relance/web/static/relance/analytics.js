// Analytics: draws DSO, best-possible DSO and CEI by month from the figures the page carries in
// the canvas's data-chart attribute (no inline script: the Content-Security-Policy refuses them).
document.addEventListener("DOMContentLoaded", () => {
  "use strict";
  const canvas = document.getElementById("kpi-chart");
  if (!canvas || !window.Chart) return;
  const data = JSON.parse(canvas.dataset.chart);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        {label: "DSO", data: data.dso, borderColor: "#1f3a5f", tension: 0.2},
        {label: canvas.dataset.bestLabel, data: data.best, borderColor: "#12b76a", tension: 0.2},
        {label: "CEI %", data: data.cei, borderColor: "#f79009", yAxisID: "cei", tension: 0.2},
      ],
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: {
        y: {title: {display: true, text: canvas.dataset.daysLabel}},
        cei: {position: "right", min: 0, max: 100, grid: {drawOnChartArea: false}},
      },
    },
  });
});
