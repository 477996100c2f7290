"""WeChat adapters: OAuth (wechatpy), JS-SDK (wechatpy), Pay API v3 (wechatpayv3). No Flask or database here."""
from .jssdk import JSSDK, WeChatAPIError, make_client
from .messages import send_template
from .oauth import WeChatAuthError, WeChatOAuthClient, authorize_url
from .pay import Notification, NotificationRejected, ResponseSignatureError, WeChatPayClient, WeChatPayError

__all__ = [
    "JSSDK", "WeChatAPIError", "make_client", "send_template",
    "WeChatAuthError", "WeChatOAuthClient", "authorize_url",
    "Notification", "NotificationRejected", "ResponseSignatureError", "WeChatPayClient", "WeChatPayError",
]
