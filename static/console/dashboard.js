// The console dashboard's two charts (Chart.js 4, vendored): the data comes from the page's JSON script tag.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var common = { responsive: true, maintainAspectRatio: false, animation: false,
                 plugins: { legend: { position: "bottom" } } };
  new window.Chart(document.getElementById("chart-sales"), {
    type: "line",
    data: { labels: data.days, datasets: [
      { label: data.text.sales, data: data.sales, borderColor: "#0d6efd", backgroundColor: "#0d6efd", tension: 0.2 },
      { label: data.text.refunds, data: data.refunds, borderColor: "#dc3545", backgroundColor: "#dc3545", tension: 0.2 }
    ] },
    options: Object.assign({ scales: { y: { beginAtZero: true } } }, common)
  });
  new window.Chart(document.getElementById("chart-stores"), {
    type: "bar",
    data: { labels: data.stores, datasets: [
      { label: data.text.orders, data: data.orders, backgroundColor: "#6c757d" },
      { label: data.text.pickups, data: data.pickups, backgroundColor: "#198754" }
    ] },
    options: Object.assign({ scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }, common)
  });
})();
