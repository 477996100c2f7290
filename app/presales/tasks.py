"""Pre-sales' background work, each deadline twice over (a message scheduled when the deposit is paid, and a
sweep every minute for any message that was lost): announce the balance window's opening (the order page
says it in any case; a WeChat template message when configured), and settle a missed balance at the
window's end by the campaign's rule."""
from __future__ import annotations

from flask import current_app

from app.core import logging as applog
from app.core import shared_values, tasks
from app.core.clock import now_utc
from app.core.money import yuan
from app.extensions import db
from app.integrations.wechat import WeChatAPIError, send_template
from app.members.models import Member
from app.orders.models import Order, OrderStatus
from app.payments import service as payments
from app.payments.models import PayMethod
from app.payments.providers import provider_for
from app.presales import lifecycle
from app.presales.models import PresaleCampaign
from app.presales.service import window_text


def _catch_late_balance(order_id: int) -> None:
    """WeChat's notification of a balance paid in time may be late: ask WeChat before settling."""
    order = db.session.get(Order, order_id)
    if order is None or order.pay_method is not PayMethod.WECHAT or order.status is not OrderStatus.DEPOSIT_PAID:
        return
    provider = provider_for(PayMethod.WECHAT)
    for p in payments.open_payments(order.id):
        outcome = provider.query(p)
        if outcome.paid:
            payments.apply_payment_result(payments.PaymentResult(
                p.out_trade_no, True, outcome.amount_fen, outcome.transaction_id, outcome.paid_at))
            return
        provider.close(p)
        payments.note_closed_remote(p)  # the local close that follows asks nothing more


def settle_now(order_id: int) -> bool:
    with tasks.transaction():
        _catch_late_balance(order_id)
    with tasks.transaction():
        return lifecycle.settle_if_missed(order_id, now=now_utc())


@tasks.task("presales.settle_if_missed", retries=3, retry_delay=30)
def settle_if_missed(order_id: int) -> bool:
    return settle_now(order_id)


@tasks.periodic("presales.settle_missed", minute="*")
def settle_missed() -> int:
    """The sweep. No huey lock (a lock left by a killed worker would stop it for good); two at once is safe."""
    done = 0
    with tasks.transaction():
        due = lifecycle.due_missed(now_utc())
    for order_id in due:
        try:
            done += settle_now(order_id)
        except Exception:
            applog.log.exception("settling a missed pre-sale balance failed", extra={"fields": {"order_id": order_id}})
    return done


def announce_now(order_id: int) -> bool:
    with tasks.transaction():
        claimed = lifecycle.claim_announcement(order_id, now=now_utc())
        if claimed:
            tasks.enqueue("presales.send_announcement", order_id)
    return claimed


@tasks.task("presales.announce_if_due", retries=3, retry_delay=30)
def announce_if_due(order_id: int) -> bool:
    return announce_now(order_id)


@tasks.periodic("presales.announce_due", minute="*")
def announce_due() -> int:
    done = 0
    with tasks.transaction():
        due = lifecycle.due_announcements(now_utc())
    for order_id in due:
        try:
            done += announce_now(order_id)
        except Exception:
            applog.log.exception("announcing a pre-sale balance failed", extra={"fields": {"order_id": order_id}})
    return done


def announcement_for(order_id: int) -> dict | None:
    """The template message telling a depositor the balance window is open; None without an openid."""
    order = db.session.get(Order, order_id)
    member = db.session.get(Member, order.member_id)
    if not member.openid:
        return None
    c = db.session.get(PresaleCampaign, lifecycle.of_order(order_id).campaign_id)
    base = current_app.config["APP_BASE_URL"].rstrip("/")
    return {"openid": member.openid, "url": f"{base}/orders/{order.id}", "data": {
        "first": "预售尾款开始支付啦，请在截止前支付尾款", "keyword1": c.title, "keyword2": f"订单 {order.number}",
        "keyword3": f"尾款 ¥{yuan(order.total_fen - order.deposit_fen)}，"
                    f"{window_text(c.balance_starts_at, c.balance_ends_at)}",
        "remark": "逾期未付尾款定金不退" if c.missed_balance.value == "forfeit" else "逾期未付尾款，定金将原路退回"}}


@tasks.task("presales.send_announcement", retries=3, retry_delay=60)
def send_announcement(order_id: int) -> bool:
    """Sends the announcement when the official account and a template are configured. A network failure is
    retried by the queue; a refusal (the member does not follow the account) is logged: the order page says it."""
    cfg = current_app.config
    if not (cfg.get("WECHAT_APPID") and cfg.get("WECHAT_SECRET") and cfg.get("WECHAT_TEMPLATE_PRESALE")):
        return False
    with tasks.transaction():
        message = announcement_for(order_id)
    if message is None:
        return False
    try:
        send_template(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], openid=message["openid"],
                      template_id=cfg["WECHAT_TEMPLATE_PRESALE"], data=message["data"], url=message["url"],
                      api_base=cfg.get("WECHAT_API_BASE") or None,
                      storage=shared_values.storage())
    except WeChatAPIError as exc:
        if exc.code is None:
            raise  # the network: the queue retries
        applog.event("pre-sale template message not sent", level=30, order_id=order_id, error=str(exc))
        return False
    return True
