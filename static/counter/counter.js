/* The cashier's counter: scan or type a code, verify, redeem, undo, today's list. Plain JS, no framework. */
(function () {
  'use strict';

  var root = document.getElementById('counter');
  if (!root) return;

  var T = JSON.parse(document.getElementById('counter-text').textContent);
  var $ = function (sel, el) { return (el || document).querySelector(sel); };
  var byTest = function (id) { return $('[data-testid="' + id + '"]'); };

  // ------------------------------------------------------------------ short codes (mirror app/vouchers/codes.py)
  var ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
  var LENGTH = 12;

  function normalise(text) { return text.toUpperCase().replace(/[^0-9A-Z]/g, ''); }

  function checkChar(body) {
    var total = 0;
    for (var i = 0; i < body.length; i++) total += (i + 1) * ALPHABET.indexOf(body[i]);
    return ALPHABET[total % ALPHABET.length];
  }

  /** '' while incomplete, 'bad-char', 'bad-check', 'too-long' or 'ok'. */
  function codeState(code) {
    if (!code) return '';
    for (var i = 0; i < code.length; i++) if (ALPHABET.indexOf(code[i]) < 0) return 'bad-char';
    if (code.length < LENGTH) return 'short';
    if (code.length > LENGTH) return 'too-long';
    return checkChar(code.slice(0, LENGTH - 1)) === code[LENGTH - 1] ? 'ok' : 'bad-check';
  }

  /** A scanner gun (keyboard wedge) types the QR's URL or token: leave that text alone. */
  function looksScanned(text) { return /[\/:.?=_~]/.test(text) || text.trim().length > 16; }

  // ------------------------------------------------------------------ elements
  var input = byTest('code-input');
  var hint = byTest('code-hint');
  var result = byTest('result');
  var success = byTest('success');
  var busy = byTest('busy');
  var today = byTest('today');
  var cameraBtn = byTest('camera');
  var videoBox = byTest('video-box');
  var cameraError = byTest('camera-error');
  var undoForm = byTest('undo-form');
  var undoBtn = byTest('undo');
  var confirmBtn = byTest('confirm');
  var confirmLabel = confirmBtn.textContent.trim();
  var undoWindowMs = (parseInt(root.dataset.undoWindow, 10) || 30) * 60 * 1000;

  function slot(panel, name) { return panel.querySelector('[data-slot="' + name + '"]'); }
  function setSlot(panel, name, text) { var el = slot(panel, name); if (el) el.textContent = text == null ? '' : text; }

  // ------------------------------------------------------------------ state
  var presented = null;   // what the cashier scanned or typed, sent to verify and redeem
  var voucher = null;     // voucher_json from verify
  var due = 0;            // fen the cashier collects for the verified shop order (pay at the store), else 0
  var pendingKey = null;  // idempotency key of a redeem whose answer never arrived (network): reused on retry
  var redemption = null;  // the last redeem's answer
  var undoTimer = null;
  var inFlight = false;

  // ------------------------------------------------------------------ typing
  function showHint(state) {
    var text = {'bad-char': T.bad_char, 'bad-check': T.bad_check, 'too-long': T.too_short, ok: T.looks_ok}[state] || '';
    hint.textContent = text;
    hint.dataset.state = state;
    input.classList.toggle('is-bad', state === 'bad-char' || state === 'bad-check' || state === 'too-long');
    input.classList.toggle('is-ok', state === 'ok');
  }

  function formatInput() {
    var value = input.value;
    if (looksScanned(value)) { showHint(''); return; }
    var caret = input.selectionStart == null ? value.length : input.selectionStart;
    var before = normalise(value.slice(0, caret)).length;
    var code = normalise(value);
    var shown = code.replace(/(.{4})(?=.)/g, '$1-');
    if (shown !== value) {
      input.value = shown;
      if (document.activeElement === input) {
        // Keep the caret after the same number of code characters.
        var pos = 0;
        for (var n = 0; n < before && pos < shown.length; pos++) if (shown[pos] !== '-') n++;
        input.setSelectionRange(pos, pos);
      }
    }
    showHint(codeState(code));
  }

  input.addEventListener('input', formatInput);

  byTest('code-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text) { showHint(''); hint.textContent = T.enter_code; hint.dataset.state = 'empty'; input.focus(); return; }
    verify(text);
  });

  // ------------------------------------------------------------------ requests
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                'X-CSRFToken': csrfMeta ? csrfMeta.content : ''},
      body: JSON.stringify(body)
    }).then(answer);
  }

  /** Resolves {ok, status, data}; rejects only on a network failure (no answer at all). */
  function answer(response) {
    if (response.status === 401) {
      window.location.href = root.dataset.loginUrl;
      return new Promise(function () {});
    }
    return response.json().catch(function () { return {}; }).then(function (data) {
      if (!response.ok && !(data && data.error)) {
        data = {error: {code: response.status === 429 ? 'too_many_tries' : 'server_error', message: T.server_error}};
      }
      return {ok: response.ok, status: response.status, data: data};
    });
  }

  function setBusy(on) {
    inFlight = on;
    busy.hidden = !on;
    root.classList.toggle('is-busy', on);
  }

  // ------------------------------------------------------------------ verify
  function verify(text) {
    if (inFlight) return;
    stopRetrying();
    stopCamera();
    presented = text;
    voucher = null;
    pendingKey = null;
    hideAll();
    setBusy(true);
    post(root.dataset.verifyUrl, {code: text, uses: 1}).then(function (r) {
      setBusy(false);
      if (r.ok) showOk(r.data.voucher, r.data.order, r.data);
      else showRefused(r.data.error, text);
    }, function () {
      setBusy(false);
      showRefused({code: 'network', message: T.network}, text);
    });
  }

  function hideAll() {
    stopPause();
    result.hidden = true;
    result.dataset.state = '';
    result.dataset.code = '';
    success.hidden = true;
    undoForm.hidden = true;
  }

  function fmtTime(iso) {
    if (!iso) return '';
    var t = new Date(iso);
    if (isNaN(t)) return iso;
    try {
      var parts = {};
      new Intl.DateTimeFormat('zh-CN', {
        timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', hourCycle: 'h23'
      }).formatToParts(t).forEach(function (p) { parts[p.type] = p.value; });
      return parts.year + '-' + parts.month + '-' + parts.day + ' ' + parts.hour + ':' + parts.minute;
    } catch (e) {
      return t.toLocaleString();
    }
  }

  function fillVoucher(panel, v) {
    setSlot(panel, 'title', v.title);
    setSlot(panel, 'handover', v.handover || v.title);
    // The customer by the one name the shop uses (member_name), before redeeming and in every refusal alike.
    setSlot(panel, 'holder', v.member_id ? (v.member_name || T.member + v.member_id) : T.bearer);
    setSlot(panel, 'uses', v.uses_left + ' / ' + v.uses_total + ' ' + T.times);
    // valid_until is exclusive: show the last minute it is still valid.
    setSlot(panel, 'valid', v.valid_until ? fmtTime(new Date(new Date(v.valid_until).getTime() - 1000).toISOString()) : T.no_limit);
  }

  function yuan(fen) {
    return '¥' + (fen / 100).toFixed(2);
  }

  // A shop order's pickup voucher: what to collect first (pay at the store), or that it is paid; where a
  // delivery goes. The amount is remembered for the success and undo panels.
  function fillOrder(panel, order) {
    var box = slot(panel, 'order-box');
    due = order ? order.amount_due_fen : 0;
    box.hidden = !order;
    if (!order) return;
    box.dataset.due = String(due);
    setSlot(panel, 'due', due > 0 ? T.due.replace('{amount}', yuan(due)) : T.paid);
    slot(panel, 'due').classList.toggle('is-due', due > 0);
    setSlot(panel, 'order-number', order.number);
    var delivery = order.fulfilment === 'delivery';
    slot(panel, 'delivery-row').hidden = !delivery;
    if (delivery) setSlot(panel, 'delivery', (order.delivery_address || '') + (order.delivery_phone ? ' · ' + order.delivery_phone : ''));
  }

  // A coupon: its rule; for 满减 and 折扣 the bill amount, which the server prices (优惠, 应收) before the
  // cashier can confirm. The rule lives on the server: this only asks it again as the amount is typed.
  var bill = null;        // the bill in fen the server last priced for this coupon, sent with redeem
  var billTimer = null;
  var billInput = byTest('bill-amount');

  function showCouponMoney(data) {
    var text = '';
    if (data.discount_fen != null && data.payable_fen != null) {
      text = T.coupon_money.replace('{discount}', yuan(data.discount_fen)).replace('{payable}', yuan(data.payable_fen));
    } else if (data.discount_fen != null) {
      text = T.coupon_off.replace('{discount}', yuan(data.discount_fen));
    }
    setSlot(result, 'coupon-money', text);
  }

  function fillCoupon(data) {
    var box = slot(result, 'coupon-box');
    var coupon = data && data.kind === 'coupon' ? data.coupon : null;
    bill = null;
    box.hidden = !coupon;
    slot(result, 'bill-row').hidden = !(coupon && coupon.amount_required);
    billInput.value = '';
    if (!coupon) return false;
    setSlot(result, 'coupon-rule', T.coupon_rule.replace('{rule}', coupon.rule));
    showCouponMoney(data);
    if (coupon.amount_required) setSlot(result, 'coupon-money', T.enter_bill);
    return coupon.amount_required;
  }

  function priceBill() {
    var text = billInput.value.trim();
    bill = null;
    confirmBtn.disabled = true;
    if (!/^\d+(\.\d{1,2})?$/.test(text)) { setSlot(result, 'coupon-money', T.enter_bill); return; }
    var fen = Math.round(parseFloat(text) * 100);
    post(root.dataset.verifyUrl, {code: voucher.code, uses: 1, amount_fen: fen}).then(function (r) {
      if (billInput.value.trim() !== text) return;  // typed on since: a newer answer is coming
      if (r.ok) {
        bill = fen;
        showCouponMoney(r.data);
        confirmBtn.disabled = false;
      } else {
        setSlot(result, 'coupon-money', (r.data.error || {}).message || T.server_error);
      }
    });
  }

  billInput.addEventListener('input', function () {
    clearTimeout(billTimer);
    confirmBtn.disabled = true;
    billTimer = setTimeout(priceBill, 250);
  });

  function showOk(v, order, data) {
    voucher = v;
    result.dataset.state = 'ok';
    result.dataset.code = '';
    result.className = 'ct-panel ct-panel_ok';
    setSlot(result, 'verdict', T.ok);
    setSlot(result, 'message', '');
    slot(result, 'message').hidden = true;
    slot(result, 'voucher-box').hidden = false;
    setSlot(result, 'cancel-label', T.cancel);
    fillVoucher(result, v);
    fillOrder(result, order || null);
    var needsBill = fillCoupon(data || null);
    setSlot(result, 'code', v.code);
    confirmBtn.hidden = false;
    confirmBtn.disabled = needsBill;
    confirmBtn.textContent = due > 0 ? T.collect_and_redeem.replace('{amount}', yuan(due)) : confirmLabel;
    result.hidden = false;
    confirmBtn.focus({preventScroll: true});
    result.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  }

  // ------------------------------------------------------------------ paused / not looked up
  // A refusal before any lookup says nothing about the voucher: not the red 不可核销 verdict, but the
  // counter's own state. Too many wrong tries pauses this device (or store, or network) until retry_at.
  var pauseTimer = null;

  function stopPause() {
    clearInterval(pauseTimer);
    pauseTimer = null;
    slot(result, 'countdown').hidden = true;
  }

  function showNotice(state, code, verdict, message, text) {
    hideAll();
    result.dataset.state = state;
    result.dataset.code = code;
    result.className = 'ct-panel ct-panel_notice';
    setSlot(result, 'verdict', verdict);
    setSlot(result, 'message', message);
    slot(result, 'message').hidden = false;
    slot(result, 'voucher-box').hidden = true;
    fillOrder(result, null);
    setSlot(result, 'cancel-label', T.next);
    setSlot(result, 'code', shortText(text));
    confirmBtn.hidden = true;
    result.hidden = false;
    result.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  }

  function showPaused(error, text) {
    var until = Date.parse(error.retry_at || '');
    var scope = {store: 'paused_store', ip: 'paused_ip'}[error.scope] || 'paused_device';
    var time = error.retry_at_local || (isNaN(until) ? '' : fmtTime(error.retry_at).slice(-5));
    showNotice('paused', 'too_many_tries', T.paused, time ? T[scope].replace('{time}', time) : error.message, text);
    if (isNaN(until)) return;
    var countdown = slot(result, 'countdown');
    function tick() {
      var left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        countdown.textContent = T.paused_left.replace('{seconds}', left);
        countdown.hidden = false;
        return;
      }
      showNotice('resumed', '', T.resumed, T.resumed_hint, text);
      input.focus();
    }
    tick();
    if (!countdown.hidden) pauseTimer = setInterval(tick, 1000);
  }

  function showRefused(error, text) {
    error = error || {};
    if (error.code === 'too_many_tries') { showPaused(error, text); return; }
    if (error.code === 'network') {  // the look-up never reached the server: nothing is known of the voucher
      showNotice('unchecked', error.code, T.not_checked, error.message || T.network, text);
      return;
    }
    var v = error.voucher || null;
    result.dataset.state = 'refused';
    result.dataset.code = error.code || 'error';
    result.className = 'ct-panel ct-panel_refused';
    setSlot(result, 'verdict', T.refused);
    setSlot(result, 'message', error.message || T.server_error);
    slot(result, 'message').hidden = false;
    slot(result, 'voucher-box').hidden = !v;
    setSlot(result, 'cancel-label', T.next);
    if (v) fillVoucher(result, v);
    fillOrder(result, null);
    setSlot(result, 'code', v ? v.code : shortText(text));
    confirmBtn.hidden = true;
    result.hidden = false;
    result.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  }

  function shortText(text) {
    text = (text || '').trim();
    return text.length > 40 ? text.slice(0, 37) + '…' : text;
  }

  // ------------------------------------------------------------------ redeem
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  // A 503 (the database briefly unavailable): the same request, same key, again after these many seconds,
  // about half a minute in all; then the cashier gets a retry button. The cashier taps once.
  var RETRY_DELAYS = [1, 2, 4, 8, 8, 8];
  var retryTimer = null;
  var retrying = byTest('retrying');

  function redeem() {
    if (inFlight || !presented || !voucher) return;
    stopRetrying();
    sendRedeem(0);
  }

  function sendRedeem(attempt) {
    retryTimer = null;
    var key = pendingKey || newKey();
    pendingKey = key;  // kept until an answer arrives, so a retry after a network drop is the same request
    confirmBtn.disabled = true;
    setBusy(true);
    // Redeem the voucher that verify found, by its short code: a rotating QR checked fresh at the scan must
    // not go stale while the cashier reads the screen before tapping confirm.
    var body = {code: voucher.code || presented, uses: 1, idempotency_key: key};
    if (bill != null) body.amount_fen = bill;
    post(root.dataset.redeemUrl, body).then(function (r) {
      setBusy(false);
      if (r.status === 503) { unavailable(attempt); return; }
      stopRetrying();
      pendingKey = null;
      if (r.ok) showSuccess(r.data);
      else showRefused(r.data.error, presented);
      refreshToday();
    }, function () {
      setBusy(false);
      stopRetrying();
      confirmBtn.disabled = false;
      confirmBtn.textContent = T.network + ' ' + T.retry;
    });
  }

  function unavailable(attempt) {
    retrying.hidden = false;
    if (attempt < RETRY_DELAYS.length) {
      retrying.textContent = T.unavailable_retrying;
      retrying.dataset.state = 'retrying';
      retrying.dataset.attempt = String(attempt + 1);
      retryTimer = setTimeout(function () { sendRedeem(attempt + 1); }, RETRY_DELAYS[attempt] * 1000);
      return;
    }
    retrying.textContent = T.unavailable;
    retrying.dataset.state = 'gave-up';
    confirmBtn.disabled = false;
    confirmBtn.textContent = T.retry;
  }

  function stopRetrying() {
    clearTimeout(retryTimer);
    retryTimer = null;
    retrying.hidden = true;
    retrying.textContent = '';
    retrying.dataset.state = '';
  }

  function showSuccess(data) {
    redemption = data.redemption;
    var v = data.voucher;
    hideAll();
    success.dataset.state = 'done';
    success.dataset.redemptionId = redemption.id;
    success.className = 'ct-panel ct-panel_done';
    setSlot(success, 'verdict', T.done);
    setSlot(success, 'handover-label', T.hand_over);
    setSlot(success, 'handover', v.handover || v.title);
    setSlot(success, 'title', v.title);
    setSlot(success, 'uses', v.uses_left + ' / ' + v.uses_total + ' ' + T.times);
    var couponMoney = data.kind === 'coupon' && data.discount_fen != null;
    setSlot(success, 'money', due > 0 ? T.collected.replace('{amount}', yuan(due)) : couponMoney
      ? (data.payable_fen != null ? T.coupon_money.replace('{discount}', yuan(data.discount_fen)).replace('{payable}', yuan(data.payable_fen))
        : T.coupon_off.replace('{discount}', yuan(data.discount_fen))) : '');
    slot(success, 'money').hidden = !(due > 0 || couponMoney);
    slot(success, 'undone').hidden = true;
    byTest('next').hidden = false;
    undoBtn.hidden = false;
    clearTimeout(undoTimer);
    undoTimer = setTimeout(function () { undoBtn.hidden = true; undoForm.hidden = true; }, undoWindowMs);
    success.hidden = false;
    presented = null;
    voucher = null;
    input.value = '';
    showHint('');
    byTest('next').focus({preventScroll: true});
    success.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  }

  // ------------------------------------------------------------------ undo
  function openUndo() {
    undoForm.hidden = false;
    byTest('undo-error').hidden = true;
    byTest('undo-reason').focus();
  }

  undoForm.addEventListener('click', function (ev) {
    var chip = ev.target.closest('[data-reason]');
    if (chip) { byTest('undo-reason').value = chip.dataset.reason; byTest('undo-reason').focus(); }
  });

  undoForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (inFlight || !redemption) return;
    var reason = byTest('undo-reason').value.trim();
    var err = byTest('undo-error');
    if (!reason) { err.textContent = T.give_reason; err.hidden = false; return; }
    setBusy(true);
    // A retried undo is safe: the server answers an undone redemption with the first answer.
    post(root.dataset.undoUrl.replace('/0/', '/' + redemption.id + '/'), {reason: reason}).then(function (r) {
      setBusy(false);
      if (r.ok) {
        clearTimeout(undoTimer);
        success.dataset.state = 'undone';
        success.className = 'ct-panel ct-panel_undone';
        setSlot(success, 'verdict', T.undone_title);
        setSlot(success, 'handover-label', T.take_back);
        setSlot(success, 'undone', T.undone);
        if (due > 0) setSlot(success, 'money', T.give_back.replace('{amount}', yuan(due)));
        slot(success, 'undone').hidden = false;
        setSlot(success, 'uses', r.data.voucher.uses_left + ' / ' + r.data.voucher.uses_total + ' ' + T.times);
        undoBtn.hidden = true;
        undoForm.hidden = true;
        byTest('undo-reason').value = '';
      } else {
        err.textContent = (r.data.error && r.data.error.message) || T.server_error;
        err.hidden = false;
      }
      refreshToday();
    }, function () {
      setBusy(false);
      err.textContent = T.network;
      err.hidden = false;
    });
  });

  // ------------------------------------------------------------------ camera
  var scanner = null;
  var scanning = false;

  function startCamera() {
    cameraError.hidden = true;
    if (!window.QrScanner) { cameraFailed(T.camera_failed); return; }
    if (!window.isSecureContext) { cameraFailed(T.camera_insecure); return; }
    hideAll();
    var video = $('video', videoBox);
    if (!scanner) {
      scanner = new QrScanner(video, function (res) {
        if (!scanning) return;
        var text = res && (res.data || res);
        if (!text) return;
        stopCamera();
        verify(String(text));
      }, {returnDetailedScanResult: true, preferredCamera: 'environment', maxScansPerSecond: 10,
        highlightScanRegion: true, highlightCodeOutline: true});
    }
    scanning = true;
    videoBox.hidden = false;
    setSlot(cameraBtn, 'camera-label', T.close_camera);
    cameraBtn.dataset.state = 'on';
    scanner.start().catch(function (e) {
      stopCamera();
      cameraFailed(T.camera_failed + (e && e.name ? ' (' + e.name + ')' : ''));
    });
  }

  function stopCamera() {
    if (!scanning) return;
    scanning = false;
    if (scanner) scanner.stop();
    videoBox.hidden = true;
    setSlot(cameraBtn, 'camera-label', T.open_camera);
    cameraBtn.dataset.state = '';
  }

  function cameraFailed(message) {
    cameraError.textContent = message;
    cameraError.hidden = false;
    input.focus();
  }

  // WeChat's own scanner, when this page runs inside WeChat with the JS-SDK already configured.
  var wxBtn = byTest('wx-scan');
  if (/MicroMessenger/i.test(navigator.userAgent) && window.wx && typeof window.wx.scanQRCode === 'function') {
    wxBtn.hidden = false;
  }

  function wxScan() {
    stopCamera();
    window.wx.scanQRCode({
      needResult: 1,
      scanType: ['qrCode', 'barCode'],
      success: function (res) { if (res && res.resultStr) verify(res.resultStr); },
      fail: function () { cameraFailed(T.camera_failed); }
    });
  }

  // ------------------------------------------------------------------ today's list
  function refreshToday() {
    return fetch(root.dataset.todayUrl, {credentials: 'same-origin', headers: {'Accept': 'text/html'}})
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.href = root.dataset.loginUrl; return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html != null) today.innerHTML = html; })
      .catch(function () { /* keep the last list */ });
  }

  // ------------------------------------------------------------------ wiring
  function reset() {
    stopRetrying();
    stopCamera();
    hideAll();
    presented = null;
    voucher = null;
    pendingKey = null;
    input.value = '';
    showHint('');
    input.focus();
  }

  root.addEventListener('click', function (ev) {
    var el = ev.target.closest('[data-action]');
    if (!el) return;
    switch (el.dataset.action) {
      case 'camera': if (scanning) stopCamera(); else startCamera(); break;
      case 'wx-scan': wxScan(); break;
      case 'confirm': redeem(); break;
      case 'reset': reset(); break;
      case 'undo-open': openUndo(); break;
      case 'undo-close': undoForm.hidden = true; break;
      case 'today': refreshToday(); break;
    }
  });

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) stopCamera();
    else refreshToday();
  });

  refreshToday();
  // For tests and the console: the page's small API.
  window.__counter = {verify: verify, refreshToday: refreshToday, checkChar: checkChar, codeState: codeState};
})();
