/* Checkout (pickup/delivery switch, current location, one submit), order page (pay countdown, confirm cancel
   and refund, live status) and the WeChat JSAPI pay page. Plain forms do the work; this only helps. */
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
    // Another coupon (or none): the page is quoted again by the server, which alone computes prices.
    $$('input[data-coupon-pick]', form).forEach(function (r) {
      r.addEventListener('change', function () { window.location.assign(r.getAttribute('data-coupon-pick')); });
    });
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

  // A form that must go once (a review, a phone code): a second tap while the first is on its way is ignored.
  $$('form[data-once]').forEach(function (f) {
    var sent = false;
    f.addEventListener('submit', function (ev) {
      if (sent) { ev.preventDefault(); return; }
      sent = true;
      var btn = $('button[type=submit], button:not([type])', f);
      if (btn) setTimeout(function () { btn.disabled = true; }, 0);
    });
  });

  // ------------------------------------------------------------------ order page
  // A form with data-confirm asks its question first, in the page's WeUI dialog: the safe answer has the
  // focus, Escape says no, Tab stays inside; "yes" sends the form as it was submitted.
  var dialog = $('[data-confirm-dialog]');
  $$('form[data-confirm]').forEach(function (f) {
    var agreed = false;
    f.addEventListener('submit', function (ev) {
      if (agreed) { agreed = false; return; }
      ev.preventDefault();
      if (!dialog) { if (window.confirm(f.getAttribute('data-confirm'))) { agreed = true; sendAgreed(f, ev.submitter); } return; }
      confirmFirst(f.getAttribute('data-confirm'), f, function () { agreed = true; sendAgreed(f, ev.submitter); }, ev.submitter);
    });
  });

  function sendAgreed(f, submitter) {
    if (f.requestSubmit) f.requestSubmit(submitter || undefined);  // runs the form's other submit handlers
    else f.submit();
  }

  function confirmFirst(question, f, onYes, back) {
    var no = $('[data-confirm-answer=no][data-label]', dialog);
    var yes = $('[data-confirm-answer=yes]', dialog);
    $('#confirm-text', dialog).textContent = question;
    no.textContent = f.getAttribute('data-confirm-no') || no.getAttribute('data-label');
    yes.textContent = f.getAttribute('data-confirm-yes') || yes.getAttribute('data-label');
    var close = function (answer) {
      dialog.hidden = true;
      dialog.removeEventListener('click', onClick);
      document.removeEventListener('keydown', onKey, true);
      if (answer === 'yes') onYes();
      else if (back) back.focus();
    };
    var onClick = function (ev) {
      var answer = ev.target.closest('[data-confirm-answer]');
      if (answer) close(answer.getAttribute('data-confirm-answer'));
    };
    var onKey = function (ev) {
      if (ev.key === 'Escape') { ev.preventDefault(); close('no'); }
      else if (ev.key === 'Tab') {  // two buttons: Tab and Shift-Tab move between them
        ev.preventDefault();
        (document.activeElement === no ? yes : no).focus();
      }
    };
    dialog.addEventListener('click', onClick);
    document.addEventListener('keydown', onKey, true);
    dialog.hidden = false;
    no.focus();
  }

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

  // While the order waits (payment, the hand-over at the counter) or a refund is on its way, ask the server
  // every few seconds while the page is in view, and show the new state when it changed. The page only
  // carries data-poll-url while something is still to happen.
  var live = $('[data-poll-url]');
  if (live) {
    var statusUrl = live.getAttribute('data-poll-url');
    var every = (parseInt(live.getAttribute('data-poll-seconds'), 10) || 5) * 1000;
    var shown = { status: live.getAttribute('data-status'), refunding: live.getAttribute('data-refunding') === '1' };
    var TERMINAL = ['picked_up', 'completed', 'cancelled', 'refunded'];
    var pollTimer = null, asking = false, stopped = false;
    var schedule = function () {
      clearTimeout(pollTimer);
      pollTimer = null;
      if (!stopped && !document.hidden) pollTimer = setTimeout(ask, every);
    };
    var ask = function () {
      pollTimer = null;
      if (stopped || asking || document.hidden) return;
      asking = true;
      fetch(statusUrl, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) {
          var json = r.ok && (r.headers.get('Content-Type') || '').indexOf('application/json') === 0;
          return json ? r.json() : null;  // signed out or gone: nothing more to learn here
        })
        .then(function (body) {
          asking = false;
          if (!body) { stopped = true; return; }
          if (body.status !== shown.status || !!body.refunding !== shown.refunding) {
            stopped = true;
            location.reload();
          } else if (TERMINAL.indexOf(body.status) >= 0 && !body.refunding) {
            stopped = true;
          } else {
            schedule();
          }
        })
        .catch(function () { asking = false; schedule(); });  // offline for a moment: try again later
    };
    document.addEventListener('visibilitychange', function () {
      if (document.hidden) { clearTimeout(pollTimer); pollTimer = null; }
      else ask();  // back in view: the counter may have redeemed it meanwhile
    });
    window.addEventListener('pageshow', function (ev) { if (ev.persisted && !stopped) ask(); });
    schedule();
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
          // Waits for the status the page was opened in to change (待支付, or a pre-sale's 待付尾款).
          var from = wx.getAttribute('data-status-from') || 'pending_payment';
          if (body.status !== from || tries <= 0) location.href = wx.getAttribute('data-order-url');
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
