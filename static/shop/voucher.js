/* The holder's voucher page: fetch a fresh QR every rotate_seconds, and whenever the page comes back into
   view, so a screenshot passed around goes stale. `window.__refreshQr()` refreshes it now. */
(function () {
  'use strict';
  var img = document.querySelector('img[data-qr]');
  if (!img) return;
  var base = img.getAttribute('data-qr');
  var rotating = img.getAttribute('data-rotating') === '1';
  var seconds = parseInt(img.getAttribute('data-rotate-seconds'), 10) || 60;
  var timer = null;
  var last = Date.now();

  function refresh() {
    last = Date.now();
    var url = base + (base.indexOf('?') < 0 ? '?' : '&') + 't=' + last;
    img.setAttribute('src', url);
    return url;
  }

  function schedule() {
    clearInterval(timer);
    timer = setInterval(refresh, seconds * 1000);
  }

  window.__refreshQr = refresh;
  if (!rotating) return;
  schedule();
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) return;
    // Back from the lock screen or another app: the shown QR may be old. Refresh now and restart the period.
    if (Date.now() - last > 2000) { refresh(); schedule(); }
  });
  window.addEventListener('pageshow', function (ev) { if (ev.persisted) { refresh(); schedule(); } });
})();
