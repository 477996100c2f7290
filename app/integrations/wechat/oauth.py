"""Official-account web OAuth (网页授权) over wechatpy's ``WeChatOAuth``.

Flow: redirect the browser to :func:`authorize_url`; WeChat redirects back with ``code`` and ``state``; check ``state``
against the session, then :meth:`WeChatOAuthClient.exchange_code`. A code works once and expires after ~5 minutes.
For ``snsapi_userinfo`` grants, :meth:`WeChatOAuthClient.fetch_userinfo` returns the profile.
"""
from __future__ import annotations

from urllib.parse import quote

import requests
from wechatpy import WeChatOAuth
from wechatpy.exceptions import WeChatClientException

from ._transport import mount_api_base

SCOPES = ("snsapi_base", "snsapi_userinfo")

# errcodes that mean "this code / grant is no good: send the user through authorisation again"
INVALID_CODE_ERRCODES = frozenset({40029, 40163, 41008, 42003})
# errcodes that mean our configuration is wrong (appid/secret/IP whitelist), not the user's fault
CONFIG_ERRCODES = frozenset({40013, 40125, 40164, 41002, 41004, 48001, 61024})

_MESSAGES = {
    40029: "invalid code",
    40163: "code been used",
    41008: "missing code",
    42003: "code expired",
    40013: "invalid appid",
    40125: "invalid appsecret",
    40164: "caller IP not in whitelist",
    48001: "api unauthorized (scope)",
    40001: "invalid credential",
    42001: "access token expired",
    40003: "invalid openid",
}


class WeChatAuthError(Exception):
    """A failed OAuth call. ``code`` is WeChat's errcode (None for HTTP/network failures)."""

    def __init__(self, code: int | None, message: str):
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message

    @property
    def is_invalid_code(self) -> bool:
        """True when the user should simply be sent through authorisation again."""
        return self.code in INVALID_CODE_ERRCODES

    @property
    def is_config_error(self) -> bool:
        return self.code in CONFIG_ERRCODES


def authorize_url(appid: str, redirect_uri: str, scope: str = "snsapi_base", state: str = "") -> str:
    """``https://open.weixin.qq.com/connect/oauth2/authorize?...#wechat_redirect`` for the given scope.

    ``state`` is URL-quoted (wechatpy inserts it raw); keep it short (WeChat allows up to 128 bytes, [a-zA-Z0-9]).
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    oauth = WeChatOAuth(appid, "", redirect_uri, scope=scope, state=quote(state or "", safe=""))
    return oauth.authorize_url


class WeChatOAuthClient:
    """Thin, stateless adapter: every call returns plain dicts; one instance can be shared by threads."""

    def __init__(self, appid: str, secret: str, api_base: str | None = None, timeout: float | tuple = (3.05, 10)):
        self.appid = appid
        self._oauth = WeChatOAuth(appid, secret, redirect_uri="")
        self._timeout = timeout
        mount_api_base(self._oauth._http, api_base, default_timeout=timeout)

    def authorize_url(self, redirect_uri: str, scope: str = "snsapi_base", state: str = "") -> str:
        return authorize_url(self.appid, redirect_uri, scope, state)

    def _call(self, fn, *args, **kwargs) -> dict:
        try:
            return fn(*args, **kwargs)
        except WeChatClientException as exc:  # WeChatOAuthException is a subclass
            code = exc.errcode
            if code is None:  # HTTP status error (raise_for_status)
                status = getattr(exc.response, "status_code", None)
                raise WeChatAuthError(None, f"HTTP {status} from WeChat") from exc
            try:
                code = int(code)
            except (TypeError, ValueError):
                pass
            raise WeChatAuthError(code, exc.errmsg or _MESSAGES.get(code, "error")) from exc
        except requests.RequestException as exc:
            raise WeChatAuthError(None, f"network error: {exc.__class__.__name__}") from exc
        except ValueError as exc:  # non-JSON body
            raise WeChatAuthError(None, "unparseable response from WeChat") from exc

    def exchange_code(self, code: str) -> dict:
        """Exchange the ``code`` from the redirect for the user's identity.

        Returns ``{openid, unionid (or None), access_token, refresh_token, expires_in, scope,
        is_snapshotuser}``. Raises :class:`WeChatAuthError` (40029 unknown code, 40163 code already used, ...).
        """
        if not code:
            raise WeChatAuthError(41008, "missing code")
        res = self._call(self._get, "sns/oauth2/access_token", params={
            "appid": self.appid,
            "secret": self._oauth.secret,
            "code": code,
            "grant_type": "authorization_code",
        })
        if not res.get("openid") or not res.get("access_token"):
            raise WeChatAuthError(None, "response without openid/access_token")
        return {
            "openid": res["openid"],
            "unionid": res.get("unionid") or None,
            "access_token": res["access_token"],
            "refresh_token": res.get("refresh_token"),
            "expires_in": res.get("expires_in"),
            "scope": res.get("scope", ""),
            # set to 1 when the user is on a "snapshot page" (virtual identity, no real openid to bind)
            "is_snapshotuser": bool(res.get("is_snapshotuser")),
        }

    def fetch_userinfo(self, access_token: str, openid: str, lang: str = "zh_CN") -> dict:
        """Profile for an ``snsapi_userinfo`` grant (``sns/userinfo``).

        Returns ``{openid, nickname, headimgurl, unionid (or None), sex, province, city, country, privilege}``.
        """
        if not access_token or not openid:
            raise WeChatAuthError(41001, "missing access_token or openid")
        res = self._call(self._get, "sns/userinfo", params={
            "access_token": access_token, "openid": openid, "lang": lang,
        })
        return {
            "openid": res.get("openid", openid),
            "nickname": res.get("nickname", ""),
            "headimgurl": res.get("headimgurl", ""),
            "unionid": res.get("unionid") or None,
            "sex": res.get("sex"),
            "province": res.get("province", ""),
            "city": res.get("city", ""),
            "country": res.get("country", ""),
            "privilege": res.get("privilege", []),
        }

    def _get(self, endpoint: str, **kwargs) -> dict:
        # wechatpy's fetch_access_token() stores the token on the (shared) instance; call the endpoint directly so
        # the adapter stays stateless and thread-safe.
        kwargs.setdefault("timeout", self._timeout)
        return self._oauth._get(endpoint, **kwargs)
