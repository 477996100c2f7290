"""JS-SDK ``wx.config`` parameters, with the access token and jsapi ticket kept in a shared wechatpy storage.

Give every process the same storage (``wechatpy.session.redisstorage.RedisStorage`` in production) so gunicorn workers
share one access token and one ticket instead of invalidating each other's.
"""
from __future__ import annotations

import time
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.utils import random_string

from ._transport import mount_api_base

# refresh a token/ticket this many seconds before WeChat says it expires
REFRESH_MARGIN = 300


class WeChatAPIError(Exception):
    """A failed official-account API call. ``code`` is WeChat's errcode (None for HTTP/network failures)."""

    def __init__(self, code: int | None, message: str):
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


class SharedTokenWeChatClient(WeChatClient):
    """``WeChatClient`` whose access-token *expiry* also lives in the shared storage.

    wechatpy keeps ``expires_at`` on the instance (wechatpy#684): a process that finds a token in shared storage but
    has no ``expires_at`` of its own treats it as user-provided and never refreshes it early. Here both the token and
    its expiry are read from storage, so any worker refreshes it shortly before it expires.
    """

    @property
    def _expires_at_key(self) -> str:
        return f"{self.appid}_access_token_expires_at"

    def fetch_access_token(self):
        res = super().fetch_access_token()  # stores the token (with ttl) and sets self.expires_at
        self.session.set(self._expires_at_key, self.expires_at, int(res.get("expires_in", 7200)))
        return res

    @property
    def access_token(self):  # type: ignore[override]
        token = self.session.get(self.access_token_key)
        expires_at = self.session.get(self._expires_at_key) or 0
        if token and float(expires_at) - time.time() > REFRESH_MARGIN:
            return token
        self.fetch_access_token()
        return self.session.get(self.access_token_key)


def make_client(appid: str, secret: str, storage: SessionStorage | None = None, api_base: str | None = None,
                timeout: float | tuple = (3.05, 10)) -> SharedTokenWeChatClient:
    """A wechatpy client (for jsapi, qrcode, template messages, ...) sharing its token through ``storage``."""
    client = SharedTokenWeChatClient(appid, secret, session=storage or MemoryStorage(), timeout=timeout)
    mount_api_base(client._http, api_base, default_timeout=timeout)
    return client


class JSSDK:
    def __init__(self, appid: str, secret: str, storage: SessionStorage | None = None, api_base: str | None = None,
                 timeout: float | tuple = (3.05, 10)):
        self.appid = appid
        self.client = make_client(appid, secret, storage, api_base, timeout)

    # same keys as wechatpy's get_jsapi_ticket(), so both interoperate on one storage
    @property
    def _ticket_key(self) -> str:
        return f"{self.appid}_jsapi_ticket"

    @property
    def _ticket_expires_key(self) -> str:
        return f"{self.appid}_jsapi_ticket_expires_at"

    def get_ticket(self) -> str:
        """The jsapi ticket from storage, refreshed from WeChat shortly before it expires."""
        storage = self.client.session
        ticket = storage.get(self._ticket_key)
        expires_at = storage.get(self._ticket_expires_key) or 0
        if ticket and float(expires_at) - time.time() > REFRESH_MARGIN:
            return ticket
        try:
            res = self.client.jsapi.get_ticket("jsapi")
        except WeChatClientException as exc:
            raise WeChatAPIError(exc.errcode, exc.errmsg or "error") from exc
        except requests.RequestException as exc:
            raise WeChatAPIError(None, f"network error: {exc.__class__.__name__}") from exc
        ticket = res["ticket"]
        expires_in = int(res.get("expires_in", 7200))
        storage.set(self._ticket_key, ticket, expires_in)
        storage.set(self._ticket_expires_key, int(time.time()) + expires_in, expires_in)
        return ticket

    def config(self, url: str, *, timestamp: int | None = None, nonce_str: str | None = None) -> dict:
        """Parameters for ``wx.config`` on the page at ``url`` (the full page URL; any ``#fragment`` is dropped).

        Returns ``{appId, timestamp, nonceStr, signature}``; add ``jsApiList`` on the page.
        """
        if not url or not url.startswith(("http://", "https://")):
            raise ValueError("url must be the absolute page URL")
        url = url.split("#", 1)[0]  # sign exactly location.href.split('#')[0]; don't re-serialise
        timestamp = int(time.time()) if timestamp is None else int(timestamp)
        nonce_str = nonce_str or random_string(16)
        ticket = self.get_ticket()
        signature = self.client.jsapi.get_jsapi_signature(nonce_str, ticket, timestamp, url)
        return {"appId": self.appid, "timestamp": timestamp, "nonceStr": nonce_str, "signature": signature}
