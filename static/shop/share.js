/* Pages a shopper sends to friends (a team, a coupon gift): the WeChat share card through the JS-SDK where the
   page carries a signed config ([data-wx-config], app/web/shop/share.py), and a [data-share] button that opens
   the system share sheet or copies the link. */
(function () {
  'use strict';
  var $ = function (s) { return document.querySelector(s); };

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

})();
