"""What a campaign's coupon does, once: how much it takes off an amount, and how it reads.

`amount_off` is the one rule for money coupons, used by the online price quote (on the applicable lines'
payable) and by the counter (on the bill the cashier types): never negative, never more than the amount."""
from __future__ import annotations

from app.core.money import yuan_short
from app.coupons.models import Campaign, CampaignType


def amount_off(campaign: Campaign, amount_fen: int) -> int:
    """Fen off `amount_fen` (the amount the coupon applies to). 0 below a threshold; exchange and punch
    coupons take nothing off a bill (online, an exchange coupon's line is made free by the quote)."""
    if amount_fen <= 0:
        return 0
    t = campaign.type
    if t is CampaignType.CASH_OFF:
        off = campaign.value_fen or 0
    elif t is CampaignType.THRESHOLD:
        off = (campaign.value_fen or 0) if amount_fen >= (campaign.threshold_fen or 0) else 0
    elif t is CampaignType.PERCENT:
        off = min(amount_fen * (campaign.percent_off or 0) // 100, campaign.cap_fen or 0)
    else:
        off = 0
    return max(0, min(off, amount_fen))


def needs_amount(campaign: Campaign) -> bool:
    """Whether the counter must ask for the bill amount before this coupon can be used."""
    return campaign.type in (CampaignType.THRESHOLD, CampaignType.PERCENT)


def rule_text(campaign: Campaign, sku_label: str = "") -> str:
    """The rule in one line of Chinese (coupon cards, the voucher's hand-over text, the counter):
    满100减20, 立减5元, 8折 最高减20元, 兑换 拿铁（中杯）, 次卡 拿铁（中杯）×10次."""
    t = campaign.type
    if t is CampaignType.CASH_OFF:
        return f"立减{yuan_short(campaign.value_fen)}元"
    if t is CampaignType.THRESHOLD:
        return f"满{yuan_short(campaign.threshold_fen)}减{yuan_short(campaign.value_fen)}"
    if t is CampaignType.PERCENT:
        tenths = 100 - (campaign.percent_off or 0)
        discount = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths / 10:g}"
        return f"{discount}折 最高减{yuan_short(campaign.cap_fen)}元"
    if t is CampaignType.EXCHANGE:
        return f"兑换 {sku_label}".strip()
    return f"次卡 {sku_label}×{campaign.uses}次"


def rule_text_en(campaign: Campaign, sku_label: str = "") -> str:
    t = campaign.type
    if t is CampaignType.CASH_OFF:
        return f"¥{yuan_short(campaign.value_fen)} off"
    if t is CampaignType.THRESHOLD:
        return f"¥{yuan_short(campaign.value_fen)} off ¥{yuan_short(campaign.threshold_fen)}"
    if t is CampaignType.PERCENT:
        return f"{campaign.percent_off}% off, up to ¥{yuan_short(campaign.cap_fen)}"
    if t is CampaignType.EXCHANGE:
        return f"Exchange for {sku_label}".strip()
    return f"Punch card: {sku_label} ×{campaign.uses}"
