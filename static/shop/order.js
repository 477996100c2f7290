/* Checkout (pickup/delivery switch, current location, one submit), order page (pay countdown, confirm cancel)
   and the WeChat JSAPI pay page. Plain forms do the work; this only helps. */
(function () {
  'use strict';
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  // ------------------------------------------------------------------ checkout
  var form = $('form[data-checkout]');
  if (form) {
    var sync = function () {
      var picked = $('input[name=fulfilment]:checked', form);
      var mode = picked ? picked.value : 'pickup';
      $$('[data-show-for]', form).forEach(function (el) {
        el.classList.toggle('sp-hidden', el.getAttribute('data-show-for') !== mode);
      });
    };
    $$('input[name=fulfilment]', form).forEach(function (r) { r.addEventListener('change', sync); });
    sync();

    var geo = $('[data-geo]', form);
    if (geo) {
      geo.addEventListener('click', function () {
        var status = $('[data-geo-status]', form);
        if (!navigator.geolocation) { status.textContent = geo.getAttribute('data-msg-fail'); return; }
        status.textContent = geo.getAttribute('data-msg-busy');
        navigator.geolocation.getCurrentPosition(function (pos) {
          $('[data-geo-lat]', form).value = pos.coords.latitude.toFixed(6);
          $('[data-geo-lng]', form).value = pos.coords.longitude.toFixed(6);
          status.textContent = geo.getAttribute('data-msg-ok');
        }, function () {
          status.textContent = geo.getAttribute('data-msg-fail');
        }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
      });
    }

    form.addEventListener('submit', function () {
      // One order per tap: the server also recognises a repeated nonce.
      var btn = $('[type=submit]', form);
      setTimeout(function () { btn.disabled = true; }, 0);
    });
  }

  // ------------------------------------------------------------------ order page
  $$('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (ev) {
      if (!window.confirm(f.getAttribute('data-confirm'))) ev.preventDefault();
    });
  });

  var countdown = $('[data-countdown]');
  if (countdown) {
    var deadline = Date.now() + parseInt(countdown.getAttribute('data-countdown'), 10) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      countdown.textContent = Math.floor(left / 60) + ':' + ('0' + (left % 60)).slice(-2);
      if (left === 0) { clearInterval(timer); setTimeout(function () { location.reload(); }, 3000); }
    };
    var timer = setInterval(tick, 1000);
  }

  // ------------------------------------------------------------------ WeChat JSAPI pay
  var wx = $('[data-wxpay]');
  if (wx) {
    var params = JSON.parse($('#wxpay-params').textContent || '{}');
    var msg = $('[data-wxpay-msg]');
    var say = function (key) { msg.textContent = msg.getAttribute('data-msg-' + key); };
    var poll = function (tries) {
      say('wait');
      fetch(wx.getAttribute('data-status-url'), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (body.status !== 'pending_payment' || tries <= 0) location.href = wx.getAttribute('data-order-url');
          else setTimeout(function () { poll(tries - 1); }, 1000);
        })
        .catch(function () { setTimeout(function () { poll(tries - 1); }, 2000); });
    };
    var pay = function () {
      if (typeof window.WeixinJSBridge === 'undefined') { say('nowx'); return; }
      window.WeixinJSBridge.invoke('getBrandWCPayRequest', params, function (res) {
        var result = (res && res.err_msg) || '';
        // "ok" is only a hint: the server trusts the signed notification, so ask it.
        if (result === 'get_brand_wcpay_request:ok') poll(15);
        else if (result === 'get_brand_wcpay_request:cancel') say('cancel');
        else say('fail');
      });
    };
    $('[data-wxpay-go]').addEventListener('click', pay);
    if (typeof window.WeixinJSBridge !== 'undefined') pay();
    else document.addEventListener('WeixinJSBridgeReady', pay, false);
    setTimeout(function () { if (typeof window.WeixinJSBridge === 'undefined') say('nowx'); }, 1500);
  }
})();
