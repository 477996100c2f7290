"""Why a claim or a coupon's use is refused: a stable code, an HTTP status and a sentence."""
from __future__ import annotations

from app.core.errors import DomainError, NotFound


class CampaignNotFound(NotFound):
    zh = "没有找到这个优惠券活动。"
    en = "No such coupon campaign."


class CouponNotFound(NotFound):
    zh = "没有找到这张优惠券。"
    en = "No such coupon."


class SoldOut(DomainError):
    code, status = "sold_out", 409
    zh = "来晚了，优惠券已被领完。"
    en = "Sorry, all coupons of this campaign have been claimed."


class MemberLimit(DomainError):
    code, status = "member_limit", 409
    zh = "每人限领 {max_claims} 张，你已领满。"
    en = "Each member may claim {max_claims}; you already have."


class DailyLimit(DomainError):
    code, status = "daily_limit", 409
    zh = "每人每天限领 {max_claims} 张，今天已领满，明天再来。"
    en = "Each member may claim {max_claims} a day; come back tomorrow."


class NotStarted(DomainError):
    code, status = "campaign_not_active", 409
    zh = "活动尚未开始，{starts_at_local} 开始领取。"
    en = "The campaign has not started; claiming opens {_starts_at_en}."


class Ended(DomainError):
    code, status = "campaign_not_active", 409
    zh = "活动已结束。"
    en = "The campaign has ended."


class Paused(DomainError):
    code, status = "campaign_not_active", 409
    zh = "活动已暂停领取。"
    en = "Claiming is paused for this campaign."


class CouponNotUsable(DomainError):
    code, status = "coupon_not_usable", 409
    zh = "这张优惠券不能用于本单：{reason}。"
    en = "This coupon cannot be used on this order: {_reason_en}."


class CouponTaken(DomainError):
    code, status = "coupon_used", 409
    zh = "这张优惠券已被使用，请重新选择。"
    en = "This coupon has already been used; choose again."


class AmountRequired(DomainError):
    code, status = "amount_required", 400
    zh = "请输入消费金额：这张券（{rule}）按消费金额计算优惠。"
    en = "Enter the bill amount: this coupon ({_rule_en}) depends on it."


class BelowThreshold(DomainError):
    code, status = "below_threshold", 409
    zh = "消费金额未满 {threshold_yuan} 元，不能使用这张券（{rule}）。"
    en = "The bill is below ¥{threshold_yuan}; this coupon ({_rule_en}) cannot be used."


class OnlineOnly(DomainError):
    code, status = "online_only", 409
    zh = "这张券仅限线上下单使用，不能在门店核销。"
    en = "This coupon is for online orders only, not for the counter."


class NotTransferable(DomainError):
    code, status = "not_transferable", 409
    zh = "这张券不能转赠：{reason}。"
    en = "This coupon cannot be given: {_reason_en}."


class GiftGone(DomainError):
    code, status = "gift_gone", 409
    zh = "这份转赠已失效：{reason}。"
    en = "This gift is no longer available: {_reason_en}."
