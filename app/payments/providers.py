"""Payment providers behind one interface: WeChat Pay API v3 (JSAPI), the sandbox, and pay-at-store.

Providers talk to the outside world only; they never touch the database. Calls happen outside any
write transaction (the caller commits first)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for

from app.core.errors import ConfigError, DomainError
from app.integrations.wechat import WeChatPayClient, WeChatPayError
from app.payments.models import PayMethod


class PaymentUnavailable(DomainError):
    code, status = "payment_unavailable", 503
    zh = "支付暂时不可用：{reason}"
    en = "Payment is unavailable: {reason}"


@dataclass(frozen=True)
class Checkout:
    """What the pay page needs: a redirect (sandbox) or JSAPI parameters for WeixinJSBridge."""

    kind: str  # "redirect" | "jsapi" | "none"
    url: str | None = None
    params: dict | None = None


@dataclass(frozen=True)
class RefundOutcome:
    status: str  # "succeeded" | "processing" | "failed"
    detail: str = ""


@dataclass(frozen=True)
class CloseOutcome:
    """What became of asking the provider to close a payment we closed: "closed" (closed there, or never
    made there: nothing can be paid), "paid" (the payer got there first: `paid` says how; apply it),
    "refused" (a definitive refusal, `detail` says why: recorded, not asked again)."""

    status: str  # "closed" | "paid" | "refused"
    detail: str = ""
    paid: "QueryOutcome | None" = None


@dataclass(frozen=True)
class QueryOutcome:
    paid: bool
    transaction_id: str | None = None
    amount_fen: int | None = None
    paid_at: datetime | None = None


class SandboxProvider:
    """The embedded default: our own simulated pay page confirms or fails the payment, and the result goes
    through `payments.service.apply_payment_result`, the same path as a verified WeChat notification."""

    name = PayMethod.SANDBOX

    def checkout(self, payment, order, member) -> Checkout:
        return Checkout("redirect", url=url_for("payments.sandbox_page", out_trade_no=payment.out_trade_no))

    def refund(self, refund, payment) -> RefundOutcome:
        return RefundOutcome("succeeded", "sandbox")

    def query(self, payment) -> QueryOutcome:
        return QueryOutcome(paid=False)

    def close(self, payment) -> None:
        return None

    def close_remote(self, payment) -> CloseOutcome:
        return CloseOutcome("closed", "sandbox")


class StoreProvider:
    """Pay at the store: nothing online; the counter collects when it redeems the pickup voucher."""

    name = PayMethod.STORE

    def checkout(self, payment, order, member) -> Checkout:
        return Checkout("none")

    def refund(self, refund, payment) -> RefundOutcome:
        # Money collected in cash or by the store's own terminal goes back the same way, at the counter.
        return RefundOutcome("succeeded", "refund at the store")

    def query(self, payment) -> QueryOutcome:
        return QueryOutcome(paid=False)

    def close(self, payment) -> None:
        return None

    def close_remote(self, payment) -> CloseOutcome:
        return CloseOutcome("closed", "nothing online")


class WeChatProvider:
    name = PayMethod.WECHAT

    def __init__(self, client):
        self.client = client

    def notify_url(self, kind: str) -> str:
        # A plain path (not url_for): refunds are sent from jobs, outside any request.
        return f"{current_app.config['APP_BASE_URL']}/webhooks/wechatpay/{kind}"

    def checkout(self, payment, order, member) -> Checkout:
        if not member.openid or member.is_demo:
            raise PaymentUnavailable(reason="请在微信中打开并登录后支付")
        try:
            params = self.client.create_jsapi_order(
                out_trade_no=payment.out_trade_no, description=f"订单 {order.number}"[:127],
                amount_fen=payment.amount_fen, payer_openid=member.openid, notify_url=self.notify_url("payment"),
                time_expire=order.expires_at,
            )
        except WeChatPayError as exc:
            if _transient(exc):
                # Nothing is lost: the payment row is committed and open, and paying again reuses it (the same
                # out_trade_no, so WeChat cannot make a second order of it).
                raise PaymentUnavailable(zh=PROVIDER_BUSY_ZH, en=PROVIDER_BUSY_EN, reason=exc.code) from exc
            raise PaymentUnavailable(reason=exc.message or "微信支付下单失败") from exc
        return Checkout("jsapi", params=params)

    def refund(self, refund, payment) -> RefundOutcome:
        try:
            answer = self.client.refund(
                out_trade_no=payment.out_trade_no, out_refund_no=refund.out_refund_no, amount_fen=refund.amount_fen,
                total_fen=payment.amount_fen, reason=refund.reason[:80], notify_url=self.notify_url("refund"),
            )
        except WeChatPayError as exc:
            if not _transient(exc):
                return RefundOutcome("failed", f"{exc.code}: {exc.message}")
            raise  # transient: the job retries, with the same out_refund_no
        status = answer.get("status")
        if status == "SUCCESS":
            return RefundOutcome("succeeded", answer.get("refund_id", ""))
        if status in ("CLOSED", "ABNORMAL"):
            return RefundOutcome("failed", status)
        return RefundOutcome("processing", status or "")

    def query(self, payment) -> QueryOutcome:
        answer = self.client.query_order(payment.out_trade_no)
        if answer.get("trade_state") != "SUCCESS":
            return QueryOutcome(paid=False)
        return QueryOutcome(paid=True, transaction_id=answer.get("transaction_id"),
                            amount_fen=(answer.get("amount") or {}).get("total"),
                            paid_at=_parse_time(answer.get("success_time")))

    def close(self, payment) -> None:
        self.client.close_order(payment.out_trade_no)

    def close_remote(self, payment) -> CloseOutcome:
        """Closes WeChat's order of a payment we closed, so the payer can no longer pay it. ORDERPAID: the
        payer paid just before; WeChat is queried for the transaction, which the caller applies (and the
        order refunds what it can no longer take). ORDER_NOT_EXIST: the pay page never reached WeChat, there
        is nothing to close. Raises on a transient failure (the queue retries)."""
        try:
            self.client.close_order(payment.out_trade_no)
        except WeChatPayError as exc:
            if _transient(exc):
                raise
            if exc.code == "ORDER_NOT_EXIST":
                return CloseOutcome("closed", "ORDER_NOT_EXIST")
            if exc.code != "ORDERPAID":
                return CloseOutcome("refused", f"{exc.code}: {exc.message}")
        else:
            return CloseOutcome("closed")
        try:
            outcome = self.query(payment)
        except WeChatPayError as exc:
            if _transient(exc):
                raise  # asked again later: close (ORDERPAID again), then the query
            return CloseOutcome("refused", f"ORDERPAID; query: {exc.code}: {exc.message}")
        if not outcome.paid:
            return CloseOutcome("refused", "ORDERPAID, but the query does not say SUCCESS")
        return CloseOutcome("paid", "ORDERPAID", paid=outcome)


PROVIDER_BUSY_ZH = "微信支付暂时没有响应，订单已为你保留，请稍后重新支付。"
PROVIDER_BUSY_EN = "WeChat Pay did not answer. Your order is kept; please try to pay again in a moment."


def _transient(exc) -> bool:
    """No answer, a 5xx, a 429 or WeChat's 'busy' codes: the same request may succeed later. A 4xx about the
    request itself (ORDERPAID, NOT_ENOUGH, PARAM_ERROR, ...) will not."""
    if exc.status is None or exc.status >= 500 or exc.status == 429:
        return True
    return exc.code in ("SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANKERROR")


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value)


def wechat_configured(config) -> bool:
    return bool(config.get("WECHAT_PAY_MCHID"))


@lru_cache(maxsize=4)
def _wechat_client(mchid, appid, key_path, serial, apiv3_key, public_key_path, public_key_id, cert_dir, gateway,
                   timeout=5.0):
    def read(path):
        try:
            return Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read WeChat Pay key file {path}: {exc.strerror}.") from None

    # Connect within 3 s, answer within `timeout`: a hung gateway must not hold a sync worker (or a job) for long.
    kwargs = dict(mchid=mchid, appid=appid, private_key=read(key_path), cert_serial_no=serial, apiv3_key=apiv3_key,
                  gateway=gateway or None, timeout=(3.05, timeout))
    if public_key_path:
        kwargs.update(public_key=read(public_key_path), public_key_id=public_key_id)
    else:
        kwargs.update(cert_dir=cert_dir)
    return WeChatPayClient(**kwargs)


def wechat_client():
    """One client per process (loading the RSA key costs ~60 ms)."""
    c = current_app.config
    return _wechat_client(c["WECHAT_PAY_MCHID"], c["WECHAT_APPID"], c["WECHAT_PAY_PRIVATE_KEY_PATH"],
                          c["WECHAT_PAY_CERT_SERIAL_NO"], c["WECHAT_PAY_APIV3_KEY"], c["WECHAT_PAY_PUBLIC_KEY_PATH"],
                          c["WECHAT_PAY_PUBLIC_KEY_ID"], c["WECHAT_PAY_CERT_DIR"], c["WECHAT_PAY_GATEWAY"],
                          c.get("WECHAT_PAY_TIMEOUT", 5.0))


def provider_for(method: PayMethod):
    if method is PayMethod.WECHAT:
        if not wechat_configured(current_app.config):
            raise PaymentUnavailable(reason="商户未配置微信支付")
        return WeChatProvider(wechat_client())
    if method is PayMethod.STORE:
        return StoreProvider()
    if not current_app.config["SANDBOX_PAYMENTS"]:
        raise PaymentUnavailable(reason="沙箱支付仅用于演示和测试")
    return SandboxProvider()


def online_method(config) -> PayMethod | None:
    """The online method this installation offers: WeChat Pay when configured, else the sandbox outside
    production, else none (pay at the store only)."""
    if wechat_configured(config):
        return PayMethod.WECHAT
    return PayMethod.SANDBOX if config["SANDBOX_PAYMENTS"] else None
