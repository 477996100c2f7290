"""The dashboard's figures per Asia/Shanghai day and per store, counted by the database (GROUP BY).

Timestamps are stored as naive UTC. A Shanghai day is the UTC range [start_of_day(d), end_of_day(d)), computed
here in Python (app.core.clock) and used by a `CASE` that turns a timestamp into the index of its day: the same
SQL on SQLite and PostgreSQL, and no assumption about the zone's offset.

What each figure counts (every one scoped to one merchant, and to the given stores):
- sales_fen, payments: money received, by the payment's paid_at: every payment that was paid (online, or
  collected at the counter for a pay-at-store order), including a counter collection closed later by an
  undone pickup; the money that went back is in refunds.
- refunds_fen, refunds: refunds that succeeded, by succeeded_at (a pending or failed refund has not given
  money back yet); counter hand-backs of an undone pay-at-store pickup are refunds too.
- orders: orders placed, by created_at (whatever became of them).
- pickups: orders picked up (or delivered), by picked_up_at; an undone pickup is no pickup.
- redemptions: voucher redemptions at the counter not undone, by redeemed_at, at the store that redeemed
  (order pickups are redemptions too).
- wait: minutes from paid_at to picked_up_at of that day's pickups paid beforehand (pay-at-store orders are
  paid at the pickup itself and are left out of the average).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, Iterable, Sequence

import sqlalchemy as sa

from app.core.clock import end_of_day, start_of_day
from app.extensions import db
from app.orders.models import Order
from app.payments.models import Payment, PaymentStatus, PayMethod, Refund, RefundStatus
from app.vouchers.models import Redemption

DAYS = 30


@dataclass
class Row:
    """The figures of one (day, store), or a sum of several."""

    sales_fen: int = 0
    payments: int = 0
    refunds_fen: int = 0
    refunds: int = 0
    orders: int = 0
    pickups: int = 0
    redemptions: int = 0
    wait_minutes: float = 0.0  # the sum over `waited` pickups
    waited: int = 0

    @property
    def average_wait_minutes(self) -> float | None:
        return round(self.wait_minutes / self.waited, 1) if self.waited else None

    @property
    def net_fen(self) -> int:
        return self.sales_fen - self.refunds_fen

    def add(self, other: Row) -> Row:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


@dataclass
class Figures:
    days: list[date]
    cells: dict[tuple[date, int], Row] = field(default_factory=dict)

    def cell(self, day: date, store_id: int) -> Row:
        return self.cells.get((day, store_id)) or Row()

    def day(self, day: date, store_ids: Iterable[int] | None = None) -> Row:
        """The day's figures over the given stores (all counted stores with None)."""
        wanted = None if store_ids is None else set(store_ids)
        total = Row()
        for (d, s), row in self.cells.items():
            if d == day and (wanted is None or s in wanted):
                total.add(row)
        return total

    def store(self, store_id: int) -> Row:
        """The store's figures over the whole range."""
        total = Row()
        for (_, s), row in self.cells.items():
            if s == store_id:
                total.add(row)
        return total

    def series(self, name: str) -> list[Any]:
        """One figure per day over the range, oldest first (for a chart)."""
        return [getattr(self.day(d), name) for d in self.days]


def last_days(today: date, count: int = DAYS) -> list[date]:
    """The `count` Shanghai days ending with `today`, oldest first."""
    return [today - timedelta(days=count - 1 - i) for i in range(count)]


def _day_index(column: Any, days: Sequence[date]) -> sa.Case:
    """Which of `days` (consecutive) the UTC timestamp `column` falls in, as its index; the caller keeps
    the column within [start of the first, end of the last)."""
    whens = [(column < start_of_day(d), i) for i, d in enumerate(days[1:])]
    return sa.case(*whens, else_=len(days) - 1) if whens else sa.literal(0)


def _in_range(column: Any, days: Sequence[date]) -> list[sa.ColumnElement[bool]]:
    return [column >= start_of_day(days[0]), column < end_of_day(days[-1])]


def _minutes(later: Any, earlier: Any) -> sa.ColumnElement[float]:
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", later - earlier) / 60.0
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 1440.0


def _stores(column: Any, store_ids: Sequence[int] | None) -> list[sa.ColumnElement[bool]]:
    return [] if store_ids is None else [column.in_(list(store_ids))]


def daily(merchant_id: int, store_ids: Sequence[int] | None, days: Sequence[date]) -> Figures:
    """The figures of `merchant_id` per (Shanghai day, store) over `days` (consecutive, oldest first), for
    `store_ids` (None: every store of the merchant)."""
    days = list(days)
    figures = Figures(days=days)
    if not days or (store_ids is not None and not store_ids):
        return figures

    def put(rows, *names: str) -> None:
        for index, store_id, *values in rows:
            row = figures.cells.setdefault((days[int(index)], store_id), Row())
            for name, value in zip(names, values):
                current = getattr(row, name)
                setattr(row, name, current + type(current)(value or 0))  # PostgreSQL sums are Decimal

    def grouped(timestamp: Any, store: Any, *measures: Any, where: list, join: Any = None) -> sa.Result:
        index = _day_index(timestamp, days).label("day")
        query = sa.select(index, store, *measures)
        if join is not None:
            query = query.join(*join)
        query = query.where(*where, *_in_range(timestamp, days), *_stores(store, store_ids))
        return db.session.execute(query.group_by(index, store))

    order_of_payment = (Order, sa.and_(Order.id == Payment.order_id, Order.merchant_id == merchant_id))
    put(grouped(Payment.paid_at, Order.store_id, sa.func.sum(Payment.amount_fen), sa.func.count(Payment.id),
                join=order_of_payment,
                where=[Payment.merchant_id == merchant_id, Payment.paid_at.is_not(None),
                       Payment.status.in_((PaymentStatus.PAID, PaymentStatus.CLOSED))]),
        "sales_fen", "payments")
    order_of_refund = (Order, sa.and_(Order.id == Refund.order_id, Order.merchant_id == merchant_id))
    put(grouped(Refund.succeeded_at, Order.store_id, sa.func.sum(Refund.amount_fen), sa.func.count(Refund.id),
                join=order_of_refund,
                where=[Refund.merchant_id == merchant_id, Refund.status == RefundStatus.SUCCEEDED]),
        "refunds_fen", "refunds")
    put(grouped(Order.created_at, Order.store_id, sa.func.count(Order.id), where=[Order.merchant_id == merchant_id]),
        "orders")
    paid_before = sa.and_(Order.paid_at.is_not(None), Order.pay_method != PayMethod.STORE)
    put(grouped(Order.picked_up_at, Order.store_id, sa.func.count(Order.id),
                sa.func.sum(sa.case((paid_before, _minutes(Order.picked_up_at, Order.paid_at)), else_=None)),
                sa.func.sum(sa.case((paid_before, 1), else_=0)),
                where=[Order.merchant_id == merchant_id]),
        "pickups", "wait_minutes", "waited")
    put(grouped(Redemption.redeemed_at, Redemption.store_id, sa.func.count(Redemption.id),
                where=[Redemption.merchant_id == merchant_id, Redemption.undone_at.is_(None)]),
        "redemptions")
    return figures
