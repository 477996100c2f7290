/* A team's share page: the live countdown (reloads when it ends, to show the result), 邀请好友 (the WeChat
   share card through the JS-SDK where configured, else the system share sheet or a copied link), and the
   confirmation before leaving. */
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

  var wxData = $('[data-wx-config]');
  if (wxData && window.wx) {
    var cfg = JSON.parse(wxData.getAttribute('data-wx-config'));
    cfg.jsApiList = ['updateAppMessageShareData', 'updateTimelineShareData'];
    window.wx.config(cfg);
    window.wx.ready(function () {
      var card = { title: wxData.getAttribute('data-wx-title'), desc: wxData.getAttribute('data-wx-desc'),
                   link: location.href.split('#')[0], imgUrl: wxData.getAttribute('data-wx-img') };
      window.wx.updateAppMessageShareData(card);
      window.wx.updateTimelineShareData({ title: card.title, link: card.link, imgUrl: card.imgUrl });
    });
  }

  var share = $('[data-share]');
  if (share) {
    share.addEventListener('click', function () {
      var url = share.getAttribute('data-url');
      if (navigator.share) { navigator.share({ title: document.title, url: url }).catch(function () {}); return; }
      var done = function () { share.textContent = share.getAttribute('data-copied'); };
      if (navigator.clipboard) { navigator.clipboard.writeText(url).then(done, done); } else { done(); }
    });
  }

  var leave = $('form[data-confirm]');
  if (leave) {
    leave.addEventListener('submit', function (e) {
      if (!confirm(leave.getAttribute('data-confirm'))) { e.preventDefault(); }
    });
  }
})();
