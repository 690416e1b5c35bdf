// The listing page's funding bar follows the listing while others invest: every few seconds
// (data-interval, in ms: the setting BIAODI_WEB_PROGRESS_POLL_MS, 5000 by default) it reads
// /listings/<id>/progress.json and updates the bar, the percentage and the remaining amount.
(function () {
  var bar = document.getElementById("progress");
  if (!bar) return;
  var money = new Intl.NumberFormat("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
  function update() {
    fetch(bar.dataset.url, {cache: "no-store"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (p) {
      if (!p) return;
      bar.firstElementChild.style.width = p.funded_percent + "%";
      bar.setAttribute("aria-valuenow", p.funded_percent);
      document.getElementById("funded").textContent = bar.dataset.label.replace("{p}", p.funded_percent);
      document.getElementById("remaining").textContent = "¥" + money.format(Number(p.remaining));
      if (p.status !== "published") clearInterval(timer);
    }).catch(function () {});
  }
  var timer = setInterval(update, Number(bar.dataset.interval) || 5000);
})();
