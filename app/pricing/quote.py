"""The price quote: what a basket costs this shopper, per line and in total, and why.

Every amount the shop shows or charges comes from `quote()`: the product page and its cards, the cart,
checkout and the order (which stores what was applied per line). Two kinds of adjustment exist:

- per unit, changing the unit price a line is sold at: the member price today (group and pre-sale prices
  later), applied first;
- per order, a `Discount` (a coupon, later) taken off the lines it applies to and split across them in
  proportion to what each still costs (`allocation.allocate`), so a line's share can be refunded exactly.

A line's payable is its list total less its adjustments; it is never negative and never more than its list
total. All amounts are integer fen; nothing here queries the database.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from app.pricing.allocation import allocate
from app.core.i18n import N_


class AdjustmentKind(str, enum.Enum):
    """Why a line costs less than its list price. Stored with every order line (order_line_adjustments)."""
    MEMBER_PRICE = "member_price"        # a signed-in member pays the SKU's member price
    COUPON = "coupon"                    # an order-level discount, split across its lines
    GROUP_PRICE = "group_price"          # 拼团价
    PRESALE_DEPOSIT = "presale_deposit"  # 定金抵扣

    @property
    def label(self) -> str:
        """The breakdown row's name (a Chinese source string: templates translate it)."""
        return ADJUSTMENT_LABELS[self]


# How a breakdown names each kind (Chinese source strings, translated where shown).
ADJUSTMENT_LABELS = {
    AdjustmentKind.MEMBER_PRICE: N_("会员优惠"),
    AdjustmentKind.COUPON: N_("优惠券"),
    AdjustmentKind.GROUP_PRICE: N_("拼团优惠"),
    AdjustmentKind.PRESALE_DEPOSIT: N_("定金抵扣"),
}

MEMBER_PRICE_SOURCE = "member_price"


class PricedSku(Protocol):
    """What the quote needs of a SKU: an ORM `Sku` and the catalog snapshot's `SkuView` both have it."""

    @property
    def id(self) -> int: ...

    @property
    def price_fen(self) -> int: ...

    @property
    def member_price_fen(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Adjustment:
    kind: AdjustmentKind
    source: str      # what gave it: "member_price"; later "coupon:<id>", "group:<id>"
    amount_fen: int  # off the whole line, > 0


@dataclass(frozen=True, slots=True)
class QuoteLine:
    sku_id: int
    quantity: int
    list_unit_fen: int  # the SKU's list price
    unit_fen: int       # after per-unit prices (the member price): what one unit sells at before order discounts
    adjustments: tuple[Adjustment, ...]

    @property
    def list_total_fen(self) -> int:
        return self.list_unit_fen * self.quantity

    @property
    def discount_fen(self) -> int:
        return sum(a.amount_fen for a in self.adjustments)

    @property
    def payable_fen(self) -> int:
        return self.list_total_fen - self.discount_fen

    def discount_of(self, kind: AdjustmentKind) -> int:
        return sum(a.amount_fen for a in self.adjustments if a.kind is kind)


@dataclass(frozen=True, slots=True)
class Quote:
    lines: tuple[QuoteLine, ...]  # in the order asked

    @property
    def list_total_fen(self) -> int:
        return sum(l.list_total_fen for l in self.lines)

    @property
    def discount_fen(self) -> int:
        return sum(l.discount_fen for l in self.lines)

    @property
    def payable_fen(self) -> int:
        return sum(l.payable_fen for l in self.lines)

    def line(self, sku_id: int) -> QuoteLine:
        return next(l for l in self.lines if l.sku_id == sku_id)

    def discounts_by_kind(self) -> list[tuple[AdjustmentKind, int]]:
        """[(kind, fen off)] for each kind applied, in AdjustmentKind order: the breakdown's discount rows."""
        return discounts_by_kind(a for l in self.lines for a in l.adjustments)


def discounts_by_kind(adjustments: Iterable) -> list[tuple[AdjustmentKind, int]]:
    """Adjustments (anything with kind and amount_fen: a quote's, or an order's stored ones) summed by kind."""
    sums: dict[AdjustmentKind, int] = {}
    for a in adjustments:
        sums[a.kind] = sums.get(a.kind, 0) + a.amount_fen
    return [(k, sums[k]) for k in AdjustmentKind if sums.get(k)]


class Discount(Protocol):
    """An order-level discount (a coupon, say). `quote` asks which lines it applies to, then how much it
    takes off their payable total (`base_fen`, after member prices and earlier discounts); it caps the answer
    at that total and splits it across those lines in proportion to their payable (largest remainder)."""

    @property
    def kind(self) -> AdjustmentKind: ...

    @property
    def source(self) -> str: ...

    def applies_to(self, line: QuoteLine) -> bool: ...

    def amount_off(self, base_fen: int) -> int: ...


def _member_wants(member) -> bool:
    return member is not None and member is not False


def quote(lines: Iterable[tuple[PricedSku, int]], *, member=None, discounts: Iterable[Discount] = ()) -> Quote:
    """The price of `lines` ((sku, quantity) pairs, quantity >= 1) for `member`: the signed-in member (a Member
    or its id, confirmed as the merchant's; True where only that someone is signed in matters), None (or
    False) for a guest. A member pays the SKU's member price when it has one; then each discount in
    `discounts` is applied in turn. No store: prices are the same at every store today."""
    is_member = _member_wants(member)
    priced: list[QuoteLine] = []
    for sku, quantity in lines:
        if quantity < 1:
            raise ValueError(f"quantity {quantity} for SKU {sku.id}")
        list_unit = sku.price_fen
        unit = list_unit
        adjustments: tuple[Adjustment, ...] = ()
        if is_member and sku.member_price_fen is not None and sku.member_price_fen < list_unit:
            unit = max(0, sku.member_price_fen)
            adjustments = (Adjustment(AdjustmentKind.MEMBER_PRICE, MEMBER_PRICE_SOURCE, (list_unit - unit) * quantity),)
        priced.append(QuoteLine(sku.id, quantity, list_unit, unit, adjustments))
    for discount in discounts:
        priced = _apply(priced, discount)
    return Quote(tuple(priced))


def _apply(lines: list[QuoteLine], discount: Discount) -> list[QuoteLine]:
    applicable = [i for i, line in enumerate(lines) if discount.applies_to(line)]
    base = sum(lines[i].payable_fen for i in applicable)
    amount = min(max(0, int(discount.amount_off(base))), base)
    if not amount:
        return lines
    parts = allocate(amount, [lines[i].payable_fen for i in applicable])
    out = list(lines)
    for i, part in zip(applicable, parts):
        if part:
            line = out[i]
            out[i] = QuoteLine(line.sku_id, line.quantity, line.list_unit_fen, line.unit_fen,
                               (*line.adjustments, Adjustment(discount.kind, discount.source, part)))
    return out
