"""The price quote: member price per unit, order-level discounts split across lines, totals, and both kinds
of SKU it reads (ORM rows and the catalog snapshot's views)."""
from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from app.catalog.models import Sku
from app.catalog.snapshot import SkuView
from app.pricing import AdjustmentKind, QuoteLine, quote


@dataclass(frozen=True)
class Off:
    """A test discount: `fen` off the lines whose SKU is in `skus` (all lines when None)."""
    fen: int
    skus: frozenset[int] | None = None
    kind: AdjustmentKind = AdjustmentKind.COUPON
    source: str = "coupon:1"

    def applies_to(self, line: QuoteLine) -> bool:
        return self.skus is None or line.sku_id in self.skus

    def amount_off(self, base_fen: int) -> int:
        return self.fen


LATTE = SkuView(1, "中杯", 2800, 2500)
BAGEL = SkuView(2, "原味", 1550, None)
SAME = SkuView(3, "同价", 1000, 1000)


def test_a_member_pays_the_member_price_and_a_guest_the_list_price():
    member = quote([(LATTE, 2), (BAGEL, 3)], member=7)
    latte, bagel = member.lines
    assert (latte.list_unit_fen, latte.unit_fen, latte.list_total_fen, latte.discount_fen, latte.payable_fen) == (
        2800, 2500, 5600, 600, 5000)
    assert [(a.kind, a.source, a.amount_fen) for a in latte.adjustments] == [
        (AdjustmentKind.MEMBER_PRICE, "member_price", 600)]
    assert (bagel.unit_fen, bagel.adjustments, bagel.payable_fen) == (1550, (), 4650)
    assert (member.list_total_fen, member.discount_fen, member.payable_fen) == (10250, 600, 9650)
    assert member.discounts_by_kind() == [(AdjustmentKind.MEMBER_PRICE, 600)]

    guest = quote([(LATTE, 2), (BAGEL, 3)], member=None)
    assert (guest.list_total_fen, guest.discount_fen, guest.payable_fen) == (10250, 0, 10250)
    assert guest.lines[0].unit_fen == 2800 and guest.discounts_by_kind() == []


def test_a_member_price_equal_to_the_list_price_is_no_adjustment():
    line = quote([(SAME, 1)], member=1).lines[0]
    assert line.unit_fen == 1000 and line.adjustments == ()


def test_orm_skus_and_snapshot_views_price_the_same():
    row = Sku(id=1, name="中杯", price_fen=2800, member_price_fen=2500)
    assert quote([(row, 3)], member=1) == quote([(LATTE, 3)], member=1)


def test_a_zero_quantity_is_refused():
    with pytest.raises(ValueError):
        quote([(LATTE, 0)], member=None)


def test_an_order_discount_is_split_in_proportion_to_what_each_line_still_costs():
    q = quote([(LATTE, 2), (BAGEL, 1)], member=1, discounts=[Off(1000)])
    latte, bagel = q.lines
    # After member price: 5000 and 1550 (6550); 1000 off splits 763 / 237 (largest remainder).
    assert latte.discount_of(AdjustmentKind.COUPON) == 763 and bagel.discount_of(AdjustmentKind.COUPON) == 237
    assert (latte.payable_fen, bagel.payable_fen, q.payable_fen) == (4237, 1313, 5550)
    assert latte.unit_fen == 2500  # the unit price stays the member price: the coupon is the order's
    assert q.discounts_by_kind() == [(AdjustmentKind.MEMBER_PRICE, 600), (AdjustmentKind.COUPON, 1000)]


def test_a_discount_only_touches_the_lines_it_applies_to_and_never_more_than_they_cost():
    q = quote([(LATTE, 1), (BAGEL, 1)], member=None, discounts=[Off(99_999, frozenset({2}))])
    latte, bagel = q.lines
    assert latte.adjustments == () and bagel.payable_fen == 0 and bagel.discount_fen == 1550
    assert quote([(LATTE, 1)], member=None, discounts=[Off(-5)]).payable_fen == 2800  # nothing added


def test_random_baskets_add_up_and_no_line_goes_negative():
    rng = random.Random(10)
    for _ in range(2000):
        skus = []
        for i in range(rng.randint(1, 6)):
            price = rng.randint(0, 50_000)
            member_price = rng.choice((None, rng.randint(0, price)))
            skus.append((SkuView(i + 1, f"s{i}", price, member_price), rng.randint(1, 99)))
        discounts = [Off(rng.randint(-100, 200_000), rng.choice((None, frozenset(rng.sample(range(1, 7), 2)))),
                         source=f"coupon:{j}") for j in range(rng.randint(0, 3))]
        member = rng.choice((None, 1))
        q = quote(skus, member=member, discounts=discounts)
        assert q.payable_fen == q.list_total_fen - q.discount_fen
        assert sum(amount for _, amount in q.discounts_by_kind()) == q.discount_fen
        for line in q.lines:
            assert 0 <= line.payable_fen <= line.unit_fen * line.quantity <= line.list_total_fen
            assert all(a.amount_fen > 0 for a in line.adjustments)
        # Each discount took exactly what it said, capped at what the lines it applies to still cost.
        for j, d in enumerate(discounts):
            before = quote(skus, member=member, discounts=discounts[:j])
            base = sum(l.payable_fen for l in before.lines if d.applies_to(l))
            taken = sum(a.amount_fen for l in q.lines for a in l.adjustments if a.source == d.source)
            assert taken == min(max(0, d.fen), base)
