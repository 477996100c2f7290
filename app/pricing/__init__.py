"""Prices: one quote for a basket (list price, member price, discounts, payable, per line and in total),
how an order-level discount is split across lines, and what a partial refund returns.

A domain package of plain functions on dataclasses: it reads SKUs (ORM rows or catalog snapshot views) and
never queries, so catalog pages stay at one query. It must not import orders, web, payments or jobs:
they import it."""
from app.pricing.allocation import allocate, refund_share
from app.pricing.quote import (
    ADJUSTMENT_LABELS, MEMBER_PRICE_SOURCE, Adjustment, AdjustmentKind, Discount, PricedSku, Quote, QuoteLine,
    discounts_by_kind, quote,
)

__all__ = [
    "ADJUSTMENT_LABELS", "MEMBER_PRICE_SOURCE", "Adjustment", "AdjustmentKind", "Discount", "PricedSku", "Quote",
    "QuoteLine", "allocate", "discounts_by_kind", "quote", "refund_share",
]
