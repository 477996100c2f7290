/* Catalog pages: the "nearest stores" button, store choice reloads the page, price follows the chosen SKU,
   the photo gallery's "2 / 3", long reviews folded with 展开/收起. */
(function () {
  'use strict';
  var near = document.querySelector('[data-near]');
  if (near && navigator.geolocation) {
    var locate = function () {
      near.disabled = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var url = new URL(location.href);
        url.searchParams.set('lat', pos.coords.latitude.toFixed(5));
        url.searchParams.set('lng', pos.coords.longitude.toFixed(5));
        location.replace(url.toString());
      }, function () {
        near.disabled = false;
        near.textContent = near.getAttribute('data-failed');
      }, { timeout: 10000, maximumAge: 600000 });
    };
    near.hidden = false;
    near.addEventListener('click', locate);
    // Ask silently only when the phone already allowed it (never prompt on page load).
    if (!near.hasAttribute('data-located') && navigator.permissions) {
      navigator.permissions.query({ name: 'geolocation' }).then(function (s) {
        if (s.state === 'granted') locate();
      }, function () {});
    }
  }
  var select = document.querySelector('select[data-autosubmit]');
  if (select) select.addEventListener('change', function () { select.form.submit(); });
  var price = document.getElementById('pd-price'), qty = document.getElementById('pd-qty');
  Array.prototype.forEach.call(document.querySelectorAll('input[name="sku_id"]'), function (radio) {
    radio.addEventListener('change', function () {
      var label = document.querySelector('label[for="' + radio.id + '"] .pd-sku__price');
      if (price && label) price.innerHTML = label.innerHTML;
      if (qty) qty.max = radio.getAttribute('data-stock');
    });
  });
  // A review cut at three lines offers 展开; the button shows only when the text is really cut.
  Array.prototype.forEach.call(document.querySelectorAll('[data-fold-toggle]'), function (btn) {
    var body = document.getElementById(btn.getAttribute('aria-controls'));
    if (!body || body.scrollHeight <= body.clientHeight + 1) return;
    btn.hidden = false;
    btn.addEventListener('click', function () {
      var open = body.classList.toggle('is-folded') === false;
      btn.setAttribute('aria-expanded', open ? 'true' : 'false');
      btn.textContent = btn.getAttribute(open ? 'data-less' : 'data-more');
    });
  });
  var track = document.querySelector('[data-gallery]'), count = document.querySelector('[data-gallery-count]');
  if (track && count) {
    var total = track.children.length;
    track.addEventListener('scroll', function () {
      var i = Math.round(track.scrollLeft / Math.max(1, track.clientWidth)) + 1;
      count.textContent = Math.min(total, Math.max(1, i)) + ' / ' + total;
    }, { passive: true });
  }
})();
