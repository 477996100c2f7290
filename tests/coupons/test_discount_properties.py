"""Discount math as properties (hypothesis): whatever the basket and the coupon, the discount is never
negative, never above the amount it applies to, the lines' shares sum to it exactly, no line goes below 0,
and refunding every unit of every line, in any steps, returns exactly what was paid."""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from app.coupons.checkout import CouponDiscount
from app.coupons.models import Campaign, CampaignType
from app.pricing import AdjustmentKind, quote, refund_share


@dataclass(frozen=True)
class FakeSku:
    id: int
    price_fen: int
    member_price_fen: int | None


skus = st.lists(st.tuples(st.integers(1, 50_000), st.one_of(st.none(), st.integers(0, 50_000)), st.integers(1, 99)),
                min_size=1, max_size=6)
campaigns = st.one_of(
    st.builds(lambda v: Campaign(type=CampaignType.CASH_OFF, value_fen=v, with_member_price=True, all_products=True),
              st.integers(1, 500_000)),
    st.builds(lambda v, t: Campaign(type=CampaignType.THRESHOLD, value_fen=v, threshold_fen=v + t,
                                    with_member_price=True, all_products=True),
              st.integers(1, 100_000), st.integers(1, 100_000)),
    st.builds(lambda p, cap: Campaign(type=CampaignType.PERCENT, percent_off=p, cap_fen=cap, with_member_price=True,
                                      all_products=True), st.integers(1, 99), st.integers(1, 100_000)),
    st.builds(lambda v: Campaign(type=CampaignType.CASH_OFF, value_fen=v, with_member_price=False, all_products=True),
              st.integers(1, 500_000)),
)


@settings(max_examples=300, deadline=None)
@given(skus, campaigns, st.booleans(), st.data())
def test_discount_properties(rows, campaign, member, data):
    lines = [(FakeSku(i + 1, price, member_price), qty) for i, (price, member_price, qty) in enumerate(rows)]
    discount = CouponDiscount(7, campaign, {s.id: (s.id, None) for s, _ in lines}, {s.id: q for s, q in lines})
    plain = quote(lines, member=member)
    priced = quote(lines, member=member, discounts=[discount])
    shares = [l.discount_of(AdjustmentKind.COUPON) for l in priced.lines]
    applicable = sum(l.payable_fen for l in plain.lines if discount.applies_to(l))
    total = sum(shares)
    assert 0 <= total <= applicable
    assert all(s >= 0 for s in shares) and all(l.payable_fen >= 0 for l in priced.lines)
    assert priced.payable_fen == plain.payable_fen - total >= 0
    for before, after in zip(plain.lines, priced.lines):
        assert after.payable_fen <= before.payable_fen
        if not discount.applies_to(before):
            assert after.discount_of(AdjustmentKind.COUPON) == 0
    # Refund every unit in random steps: exactly what was paid comes back.
    returned = 0
    for line in priced.lines:
        done = 0
        while done < line.quantity:
            step = data.draw(st.integers(1, line.quantity - done))
            returned += refund_share(line.payable_fen, line.quantity, refunded=done, taking=step)
            done += step
    assert returned == priced.payable_fen
