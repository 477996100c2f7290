"""Consumer sign-in: WeChat web OAuth when the account is configured, a simulated sign-in in demo mode.

WeChat: /signin redirects to open.weixin.qq.com with a random `state` kept in the session (with `next` and the
scope); WeChat redirects back to /signin/wechat/callback with `code` and that `state`. The state is checked and
used up before the code is exchanged, and the code itself works once. `snsapi_base` (silent) is the default;
`?profile=1` asks for `snsapi_userinfo` (nickname and avatar) and is meant for a user's tap, never a page load,
because a forced profile request can land the user in WeChat's "snapshot page" with a virtual identity.
"""
from __future__ import annotations

import secrets
from functools import lru_cache

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, session, url_for

from app.core import logging as applog
from app.core.clock import now_utc
from app.core.database import rollback
from app.core.errors import DomainError
from app.core.i18n import current_lang, gettext
from app.extensions import db
from app.integrations.wechat.oauth import WeChatAuthError, WeChatOAuthClient
from app.members import service as members
from app.members.models import Member
from app.web.errors import render_error, wants_json
from app.web.shop import bp
from app.web.shop.session import (current_member, merchant_by_slug, safe_next, sign_in_member, sign_out_member)

SCOPE_BASE = "snsapi_base"
SCOPE_USERINFO = "snsapi_userinfo"
PENDING_KEY = "wx_oauth"     # session: {state: {"m": merchant_id, "next": path, "scope": scope, "at": epoch}}
PENDING_MAX = 5              # a few tabs may sign in at once; older attempts are forgotten
STATE_TTL_SECONDS = 15 * 60  # a code lives ~5 min; leave time for the user on WeChat's consent page


# ---------------------------------------------------------------------------------------------- errors
class SignInError(DomainError):
    """A sign-in that could not finish. Rendered by this module's handler with a "重新登录" link
    (details `_retry` and `_home`, which stay out of the JSON body)."""


class SignInUnavailable(SignInError):
    code, status = "signin_unavailable", 503
    zh = "暂时无法登录：本店尚未开通微信登录，请稍后再试或联系商家。"
    en = "Sign-in is not available: this shop has not set up WeChat sign-in yet. Try later or contact the shop."


class BadState(SignInError):
    code, status = "bad_state", 400
    zh = "登录链接已失效，或不是从本页面发起的，请重新登录。"
    en = "This sign-in link has expired or was not started here; please sign in again."


class WeChatCodeInvalid(SignInError):
    code, status = "wechat_code_invalid", 400
    zh = "微信授权已失效（授权只能使用一次，且几分钟后过期），请重新登录。"
    en = "The WeChat authorisation is no longer valid (it works once and expires after a few minutes); " \
         "please sign in again."


class WeChatUnavailable(SignInError):
    code, status = "wechat_unavailable", 502
    zh = "暂时无法连接微信完成登录，请稍后重新登录。"
    en = "WeChat could not be reached to finish signing in; please try again shortly."


@bp.errorhandler(SignInError)
def _signin_error(err: SignInError):
    rollback()
    if wants_json():
        return render_error(err)
    return render_template("errors.html", error=err.to_dict(current_lang()), status=err.status,
                           retry_url=err.details.get("_retry"), retry_label=gettext("重新登录"),
                           home_url=err.details.get("_home") or "/"), err.status



# ---------------------------------------------------------------------------------------------- helpers
@lru_cache(maxsize=8)
def oauth_client(appid: str, secret: str, api_base: str) -> WeChatOAuthClient:
    """One client (one requests session) per process and configuration; built on first use, not at import."""
    return WeChatOAuthClient(appid, secret, api_base=api_base or None)


def _client() -> WeChatOAuthClient:
    cfg = current_app.config
    return oauth_client(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], cfg.get("WECHAT_API_BASE") or "")


def _mode() -> str | None:
    """'wechat' when the official account is configured, else 'demo' when demo sign-in is on, else None."""
    cfg = current_app.config
    if cfg.get("WECHAT_APPID") and cfg.get("WECHAT_SECRET"):
        return "wechat"
    if cfg.get("DEMO_SIGNIN"):
        return "demo"
    return None


def _home(slug: str) -> str:
    return url_for("shop.home", slug=slug)


def _retry_url(slug: str, next_url: str | None) -> str:
    return url_for("shop.signin", slug=slug, next=next_url) if next_url else url_for("shop.signin", slug=slug)


def _remember_state(merchant_id: int, next_url: str, scope: str) -> str:
    state = secrets.token_hex(16)  # WeChat wants [a-zA-Z0-9], at most 128 bytes
    now = int(now_utc().timestamp())
    pending = {k: v for k, v in (session.get(PENDING_KEY) or {}).items()
               if isinstance(v, dict) and now - int(v.get("at", 0)) < STATE_TTL_SECONDS}
    pending[state] = {"m": merchant_id, "next": next_url, "scope": scope, "at": now}
    session[PENDING_KEY] = dict(sorted(pending.items(), key=lambda kv: kv[1]["at"])[-PENDING_MAX:])
    return state


def _take_state(state: str | None, merchant_id: int) -> dict | None:
    """The pending sign-in for `state`, removed from the session whatever the outcome (single use)."""
    if not state:
        return None
    pending = dict(session.get(PENDING_KEY) or {})
    entry = pending.pop(state, None)
    session[PENDING_KEY] = pending
    if not isinstance(entry, dict) or entry.get("m") != merchant_id:
        return None
    if int(now_utc().timestamp()) - int(entry.get("at", 0)) >= STATE_TTL_SECONDS:
        return None
    return entry


def _demo_members(merchant) -> list[Member]:
    return db.session.execute(
        sa.select(Member).where(Member.merchant_id == merchant.id, Member.is_demo.is_(True))
        .order_by(Member.id).limit(30)
    ).scalars().all()


# ---------------------------------------------------------------------------------------------- views
@bp.get("/m/<slug>/signin")
def signin(slug: str):
    merchant = merchant_by_slug(slug)
    home = _home(merchant.slug)
    next_url = safe_next(request.args.get("next"), home)
    mode = _mode()
    if mode == "wechat":
        want_profile = request.args.get("profile") == "1" and not current_app.config.get("WECHAT_OAUTH_SCOPE_BASE_ONLY")
        if not want_profile and current_member(merchant.id) is not None:
            return redirect(next_url)
        scope = SCOPE_USERINFO if want_profile else SCOPE_BASE
        state = _remember_state(merchant.id, next_url, scope)
        redirect_uri = current_app.config["APP_BASE_URL"] + url_for("shop.wechat_callback", slug=merchant.slug)
        return redirect(_client().authorize_url(redirect_uri, scope=scope, state=state))
    if mode == "demo":
        return render_template("shop/signin.html", merchant=merchant, next_url=next_url,
                               demo_members=_demo_members(merchant), member=current_member(merchant.id),
                               nickname_max=members.DEMO_NICKNAME_MAX)
    raise SignInUnavailable(_home=home)


@bp.post("/m/<slug>/signin/demo")
def signin_demo(slug: str):
    merchant = merchant_by_slug(slug)
    if _mode() != "demo":
        abort(404)
    next_url = safe_next(request.form.get("next"), _home(merchant.slug))
    typed = request.form.get("nickname", "")
    try:
        member = members.demo_member(merchant.id, typed)
    except members.NicknameTooLong as err:
        # Say so beside the field, with what was typed, rather than cutting it without a word.
        rollback()
        if wants_json():
            return render_error(err)
        return render_template("shop/signin.html", merchant=merchant, next_url=next_url,
                               demo_members=_demo_members(merchant), member=current_member(merchant.id),
                               nickname=typed, nickname_error=err.message(current_lang()),
                               nickname_max=members.DEMO_NICKNAME_MAX), err.status
    sign_in_member(member)
    return redirect(next_url)


@bp.get("/m/<slug>/signin/wechat/callback")
def wechat_callback(slug: str):
    merchant = merchant_by_slug(slug)
    home = _home(merchant.slug)
    if _mode() != "wechat":
        abort(404)
    entry = _take_state(request.args.get("state"), merchant.id)
    if entry is None:
        raise BadState(_retry=_retry_url(merchant.slug, None), _home=home)
    next_url = safe_next(entry.get("next"), home)
    retry = _retry_url(merchant.slug, next_url)
    code = request.args.get("code")
    if not code:  # the user declined the profile request: carry on as before
        return redirect(next_url)
    client = _client()
    try:
        grant = client.exchange_code(code)
    except WeChatAuthError as exc:
        if exc.is_invalid_code:
            raise WeChatCodeInvalid(_retry=retry, _home=home) from exc
        applog.log.warning("wechat oauth failed", extra={"fields": {"errcode": exc.code, "errmsg": exc.message}})
        raise WeChatUnavailable(_retry=retry, _home=home) from exc
    if grant["is_snapshotuser"]:
        # A virtual identity from a "snapshot page": nothing to bind a member to.
        return render_template("shop/signin_snapshot.html", merchant=merchant, retry_url=retry)
    unionid, nickname, avatar = grant["unionid"], "", ""
    if SCOPE_USERINFO in (grant.get("scope") or "").split(","):
        try:
            profile = client.fetch_userinfo(grant["access_token"], grant["openid"])
        except WeChatAuthError as exc:  # the identity is enough to sign in; the profile can come later
            applog.log.warning("wechat userinfo failed", extra={"fields": {"errcode": exc.code}})
        else:
            nickname, avatar = profile["nickname"] or "", profile["headimgurl"] or ""
            unionid = unionid or profile["unionid"]
    member = members.member_for_wechat(merchant.id, openid=grant["openid"], unionid=unionid,
                                       nickname=nickname, avatar_url=avatar)
    sign_in_member(member)
    return redirect(next_url)


@bp.post("/m/<slug>/signout")
def signout(slug: str):
    merchant = merchant_by_slug(slug)
    sign_out_member(merchant.id)
    return redirect(_home(merchant.slug))
