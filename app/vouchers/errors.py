"""Every way a voucher can be refused, each with a stable code, HTTP status and a sentence."""
from __future__ import annotations

from app.core.errors import DomainError, NotFound


class Forged(DomainError):
    code, status = "forged", 400
    zh = "券码无效：校验失败，可能输错或被篡改。"
    en = "Invalid code: the check failed (mistyped or altered)."


class VoucherNotFound(NotFound):
    zh = "没有找到这张券，请核对券码。"
    en = "No voucher has this code."


class WrongStore(DomainError):
    code, status = "wrong_store", 403
    zh = "此券不能在本店核销（可用门店：{stores}）。"
    en = "This voucher cannot be redeemed at this store (valid at: {stores})."


class NotYetValid(DomainError):
    code, status = "not_yet_valid", 409
    zh = "此券尚未生效，{valid_from_local} 起可用。"
    en = "This voucher is not valid yet; usable from {_valid_from_en}."


class AlreadyRedeemed(DomainError):
    code, status = "already_redeemed", 409
    zh = "此券已于 {redeemed_at_local} 在 {store_name} 由 {staff_name} 核销。"
    en = "Already redeemed on {_redeemed_at_en} at {store_name} by {staff_name}."


class Revoked(DomainError):
    code, status = "revoked", 409
    zh = "此券已被商户撤回：{reason}。"
    en = "This voucher was revoked by the merchant: {reason}."


class Void(DomainError):
    code, status = "void", 409
    zh = "此券已作废（订单已退款）。"
    en = "This voucher is void (its order was refunded)."


class Expired(DomainError):
    code, status = "expired", 410
    zh = "此券已于 {valid_until_local} 过期。"
    en = "This voucher expired on {_valid_until_en}."


class QrExpired(DomainError):
    code, status = "qr_expired", 410
    zh = "二维码已过期，请让顾客刷新页面后重新出示。"
    en = "The QR code is stale; ask the customer to refresh it."


class TooSoon(DomainError):
    code, status = "too_soon", 409
    zh = "此次卡使用间隔未到，{next_use_local} 后可再次使用。"
    en = "Too soon for this multi-use card; next use from {_next_use_en}."


class NotEnoughUses(DomainError):
    code, status = "not_enough_uses", 409
    zh = "剩余次数不足：还剩 {uses_left} 次，本次要核销 {uses} 次。"
    en = "Not enough uses left: {uses_left} left, {uses} asked."


class UndoWindowPassed(DomainError):
    code, status = "undo_window_passed", 409
    zh = "已超过撤销时限（核销后 {minutes} 分钟内可撤销）。"
    en = "Too late to undo (allowed within {minutes} minutes of redemption)."


class NotLatestUse(DomainError):
    code, status = "not_latest_use", 409
    zh = "次卡只能撤销最近一次核销。"
    en = "Only the most recent use of a multi-use card can be undone."


class IdempotencyKeyReused(DomainError):
    code, status = "bad_request", 400
    zh = "请求编号 idempotency_key 已用于另一张券。"
    en = "idempotency_key was already used for another voucher."


class NotReissuable(DomainError):
    """Only a voucher with uses left (lost: the reissue ends it) or a revoked one can be replaced."""
    code, status = "not_reissuable", 409
    zh = "此券状态为「{status_label}」，不能补发；只有未用完或已撤回的券可以补发。"
    en = "This voucher is {status}; only a voucher with uses left, or a revoked one, can be reissued."


class AlreadyReissued(DomainError):
    code, status = "already_reissued", 409
    zh = "此券已补发过，新券为 {code}。"
    en = "This voucher was already reissued as {code}."
