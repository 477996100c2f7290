/* Catalog pages: the "nearest stores" button, store choice reloads the page, price follows the chosen SKU. */
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
})();
