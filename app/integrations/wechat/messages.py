"""Template messages (模板消息) to a follower of the official account, through wechatpy."""
from __future__ import annotations

import requests
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.memorystorage import MemoryStorage

from .jssdk import WeChatAPIError, make_client

# Without a shared storage, the access token is kept for this process (not fetched again per message).
_PROCESS_STORAGE = MemoryStorage()


def send_template(appid: str, secret: str, *, openid: str, template_id: str, data: dict, url: str | None = None,
                  storage: SessionStorage | None = None, api_base: str | None = None) -> int:
    """Sends one template message; returns WeChat's msgid. `data` maps the template's keys to text (each
    becomes {"value": text}). Raises WeChatAPIError (errcode, or None for a network failure)."""
    client = make_client(appid, secret, storage or _PROCESS_STORAGE, api_base)
    body = {k: {"value": str(v)} for k, v in data.items()}
    try:
        res = client.message.send_template(openid, template_id, body, url=url)
    except WeChatClientException as exc:
        raise WeChatAPIError(exc.errcode, exc.errmsg or "error") from exc
    except requests.RequestException as exc:
        raise WeChatAPIError(None, f"network error: {exc.__class__.__name__}") from exc
    return int(res.get("msgid", 0))
