"""Point a wechatpy ``requests.Session`` at another host (a local fake WeChat in tests, a proxy in staging).

wechatpy hard-codes ``https://api.weixin.qq.com/`` in several places (class attributes *and* the token URL inside
``fetch_access_token``), so overriding base URLs is not enough. A transport adapter mounted on the instance's session
rewrites every request whose URL starts with the real prefix, whatever code built the URL. It also applies a default
timeout, because wechatpy's token fetch passes none.
"""
from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

WECHAT_API_BASE = "https://api.weixin.qq.com"
DEFAULT_TIMEOUT = (3.05, 10)


class RewriteBaseAdapter(HTTPAdapter):
    """Rewrites ``<from_base>/...`` to ``<to_base>/...`` just before sending; fills in a timeout when none is given."""

    def __init__(self, from_base: str, to_base: str | None = None, default_timeout=DEFAULT_TIMEOUT, **kwargs):
        self.from_base = from_base.rstrip("/") + "/"
        self.to_base = (to_base or from_base).rstrip("/") + "/"
        self.default_timeout = default_timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):  # type: ignore[override]
        if request.url and request.url.startswith(self.from_base) and self.to_base != self.from_base:
            request.url = self.to_base + request.url[len(self.from_base):]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().send(request, **kwargs)


def mount_api_base(session: requests.Session, api_base: str | None, from_base: str = WECHAT_API_BASE,
                   default_timeout=DEFAULT_TIMEOUT) -> None:
    """Route ``from_base`` requests made through ``session`` to ``api_base`` (kept as is when api_base is falsy)."""
    adapter = RewriteBaseAdapter(from_base, api_base or None, default_timeout)
    session.mount(adapter.from_base, adapter)
