"""The WeChat share card (JS-SDK `wx.config`) for pages a shopper sends to friends: a team's share page, a
coupon gift. Where the official account is configured the page carries a signed config and
static/shop/share.js sets the card (title, text, picture, link); elsewhere it offers the link itself."""
from __future__ import annotations

from flask import current_app

from app.core import logging as applog, shared_values
from app.integrations.wechat import JSSDK, WeChatAPIError


def share_config(url: str) -> dict | None:
    """wx.config for `url` where the official account is configured; None elsewhere, or when WeChat does not
    answer (the page then offers the link alone)."""
    cfg = current_app.config
    if not (cfg.get("WECHAT_APPID") and cfg.get("WECHAT_SECRET")):
        return None
    key = ("share_jssdk", cfg["WECHAT_APPID"], cfg.get("WECHAT_API_BASE") or "")
    sdk = current_app.extensions.get(key)
    if sdk is None:  # one per worker; the token and ticket are shared by all (app.core.shared_values)
        sdk = current_app.extensions[key] = JSSDK(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"],
                                                  storage=shared_values.storage(),
                                                  api_base=cfg.get("WECHAT_API_BASE") or None)
    try:
        return sdk.config(url)
    except (WeChatAPIError, ValueError) as exc:
        applog.event("js-sdk config unavailable", level=30, error=str(exc))
        return None
