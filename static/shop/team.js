/* A team's share page: the live countdown (reloads when it ends, to show the result) and the confirmation
   before leaving; 邀请好友 is static/shop/share.js. */
(function () {
  'use strict';
  var $ = function (s) { return document.querySelector(s); };

  var clock = $('[data-team-countdown]');
  if (clock) {
    var end = Date.now() + parseInt(clock.getAttribute('data-team-countdown'), 10) * 1000;
    var tick = function () {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      clock.textContent = h + ':' + ('0' + m).slice(-2) + ':' + ('0' + s).slice(-2);
      if (left === 0) { setTimeout(function () { location.reload(); }, 3000); return; }
      setTimeout(tick, 1000);
    };
    tick();
  }

  var leave = $('form[data-confirm]');
  if (leave) {
    leave.addEventListener('submit', function (e) {
      if (!confirm(leave.getAttribute('data-confirm'))) { e.preventDefault(); }
    });
  }
})();
