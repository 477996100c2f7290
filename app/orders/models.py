"""Orders for store pickup (自提) or store delivery (门店配送): one store each, lines frozen at ordering."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.core.db import UTCDateTime, enum_column
from app.extensions import db
from app.payments.models import PayMethod
from app.pricing import AdjustmentKind, discounts_by_kind


class OrderStatus(str, enum.Enum):
    PENDING_PAYMENT = "pending_payment"  # 待支付: stock reserved, cancelled when unpaid in time
    GROUPING = "grouping"                # 待成团: a group-buy seat paid; no voucher until the team is complete
    DEPOSIT_PAID = "deposit_paid"        # 待付尾款: a pre-sale's deposit paid; the balance is due in its window
    READY = "ready"                      # 待取货 (delivery: 待配送): paid (or to pay at the store); the voucher exists
    PICKED_UP = "picked_up"              # 已取货 (delivery: 已送达): the voucher was redeemed at the hand-over
    COMPLETED = "completed"              # 已完成: the refund window after pickup has closed
    CANCELLED = "cancelled"              # 已取消: never paid; stock returned
    REFUNDED = "refunded"                # 已退款: every line refunded; voucher void


TRANSITIONS: dict[OrderStatus, set[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: {OrderStatus.READY, OrderStatus.GROUPING, OrderStatus.DEPOSIT_PAID,
                                  OrderStatus.CANCELLED},
    OrderStatus.GROUPING: {OrderStatus.READY, OrderStatus.REFUNDED},  # the team completes, or fails / is left
    # The balance paid → ready; missed → the deposit refunded (REFUNDED) or forfeited (CANCELLED), by the campaign
    OrderStatus.DEPOSIT_PAID: {OrderStatus.READY, OrderStatus.REFUNDED, OrderStatus.CANCELLED},
    OrderStatus.READY: {OrderStatus.PICKED_UP, OrderStatus.REFUNDED, OrderStatus.CANCELLED},
    OrderStatus.PICKED_UP: {OrderStatus.READY, OrderStatus.COMPLETED},  # back to READY by an undo
    OrderStatus.COMPLETED: set(),
    OrderStatus.CANCELLED: set(),
    OrderStatus.REFUNDED: set(),
}

STATUS_LABELS = {
    OrderStatus.PENDING_PAYMENT: "待支付", OrderStatus.GROUPING: "待成团", OrderStatus.DEPOSIT_PAID: "待付尾款",
    OrderStatus.READY: "待取货",
    OrderStatus.PICKED_UP: "已取货",
    OrderStatus.COMPLETED: "已完成", OrderStatus.CANCELLED: "已取消", OrderStatus.REFUNDED: "已退款",
}


class OrderKind(str, enum.Enum):
    """What sold the order: the cart, or a group-buy seat (paid, it waits in GROUPING for its team)."""
    REGULAR = "regular"
    GROUPBUY = "groupbuy"


class Fulfilment(str, enum.Enum):
    PICKUP = "pickup"
    DELIVERY = "delivery"


# A delivery order goes through the same states; the store brings it, so the customer reads them differently.
DELIVERY_STATUS_LABELS = {**STATUS_LABELS, OrderStatus.READY: "待配送", OrderStatus.PICKED_UP: "已送达"}


def status_label_for(status: OrderStatus, fulfilment: Fulfilment) -> str:
    """What the customer reads for `status`: pickup wording (待取货, 已取货) or delivery wording (待配送, 已送达)."""
    labels = DELIVERY_STATUS_LABELS if fulfilment is Fulfilment.DELIVERY else STATUS_LABELS
    return labels[status]


class Order(db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus, "order_status"))
    fulfilment: Mapped[Fulfilment] = mapped_column(enum_column(Fulfilment, "order_fulfilment"))
    kind: Mapped[OrderKind] = mapped_column(enum_column(OrderKind, "order_kind"), default=OrderKind.REGULAR,
                                            server_default=OrderKind.REGULAR.value)
    pay_method: Mapped[PayMethod] = mapped_column(enum_column(PayMethod, "order_pay_method"))
    pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: as soon as ready
    delivery_address: Mapped[str | None] = mapped_column(sa.String(255))
    delivery_phone: Mapped[str | None] = mapped_column(sa.String(20))  # whom the store calls when delivering
    delivery_distance_m: Mapped[int | None]
    total_fen: Mapped[int]
    list_total_fen: Mapped[int]  # before member prices: the saving is list_total_fen - total_fen
    refunded_fen: Mapped[int] = mapped_column(default=0, server_default="0")
    # Paid in two parts (a pre-sale): the first part, the deposit; None for an order paid at once.
    deposit_fen: Mapped[int | None]
    # The pickup voucher is valid from then (a pre-sale's pickup date); None: from the moment it is issued.
    hand_over_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voucher_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id"))
    note: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(255))

    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id")

    __table_args__ = (
        sa.CheckConstraint("total_fen >= 0", name="total_nonneg"),
        sa.CheckConstraint("total_fen <= list_total_fen", name="total_within_list"),
        sa.CheckConstraint("refunded_fen >= 0 AND refunded_fen <= total_fen", name="refunded_range"),
        sa.CheckConstraint("deposit_fen IS NULL OR (deposit_fen > 0 AND deposit_fen <= total_fen)",
                           name="deposit_range"),
        sa.CheckConstraint("fulfilment <> 'delivery' OR delivery_address IS NOT NULL", name="delivery_has_address"),
        sa.Index("ix_orders_status_expires", "status", "expires_at"),
        sa.Index("ix_orders_merchant_created", "merchant_id", "created_at"),
    )

    @property
    def status_label(self) -> str:
        return status_label_for(self.status, self.fulfilment)

    @property
    def is_presale(self) -> bool:
        """Paid in two parts: a deposit, then the balance (a pre-sale)."""
        return self.deposit_fen is not None

    @property
    def is_delivery(self) -> bool:
        return self.fulfilment is Fulfilment.DELIVERY

    @property
    def discounts_by_kind(self) -> list[tuple[AdjustmentKind, int]]:
        """[(kind, fen off)] over every line, as the quote gave them: the order's breakdown below 商品金额."""
        return discounts_by_kind(a for line in self.lines for a in line.adjustments)


class OrderLine(db.Model):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id"))
    product_name: Mapped[str] = mapped_column(sa.String(120))
    sku_name: Mapped[str] = mapped_column(sa.String(60))
    quantity: Mapped[int]
    unit_price_fen: Mapped[int]  # after per-unit prices (the member price)
    list_price_fen: Mapped[int]
    # The line's total after every adjustment (the quote's payable): what its units are refunded from.
    payable_fen: Mapped[int]
    refunded_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")
    # Loaded with the lines (one query for all of them): the order page breaks its amounts down by kind.
    adjustments: Mapped[list["OrderLineAdjustment"]] = relationship(order_by="OrderLineAdjustment.id",
                                                                     lazy="selectin")

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_fen >= 0 AND unit_price_fen <= list_price_fen", name="price_range"),
        sa.CheckConstraint("payable_fen >= 0 AND payable_fen <= unit_price_fen * quantity", name="payable_range"),
        sa.CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunded_range"),
    )

    @property
    def line_total_fen(self) -> int:
        """What the line costs after every adjustment."""
        return self.payable_fen

    @property
    def list_total_fen(self) -> int:
        return self.list_price_fen * self.quantity

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.refunded_quantity


class OrderEventKind(str, enum.Enum):
    """Why an order's status changed: the order page words each kind (pickup or delivery wording)."""

    PLACED = "placed"
    PAID = "paid"                    # paid online
    PAY_AT_STORE = "pay_at_store"    # ready at once; the counter collects (delivery: pay on delivery)
    PICKED_UP = "picked_up"          # the counter redeemed the voucher (delivery: redeemed on delivery)
    PICKUP_UNDONE = "pickup_undone"  # the counter undid that redemption
    CANCELLED = "cancelled"          # by the customer or the store; `note` says why
    EXPIRED = "expired"              # unpaid in time
    REFUNDED = "refunded"            # every line refunded; `note` says why
    COMPLETED = "completed"          # the refund window after pickup closed
    GROUPED = "grouped"              # the group-buy team filled: ready for pickup
    DEPOSIT_PAID = "deposit_paid"    # a pre-sale's deposit paid: the balance is due in its window


class OrderLineAdjustment(db.Model):
    """What took an order line below its list price, frozen when the order was placed: the member price
    today, coupons and group prices later. The line's adjustments sum to its list total less its payable."""

    __tablename__ = "order_line_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id"), index=True)
    kind: Mapped[AdjustmentKind] = mapped_column(enum_column(AdjustmentKind, "adjustment_kind"))
    source: Mapped[str] = mapped_column(sa.String(64))  # "member_price", later "coupon:<id>"
    amount_fen: Mapped[int]

    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)


class OrderEvent(db.Model):
    """Append-only: every status change of every order."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    kind: Mapped[OrderEventKind] = mapped_column(enum_column(OrderEventKind, "order_event_kind"))
    status_before: Mapped[str | None] = mapped_column(sa.String(24))
    status_after: Mapped[str] = mapped_column(sa.String(24))
    note: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")  # a person's reason, if any
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class OrderVoucher(db.Model):
    """Which order a voucher hands over: the pickup voucher, and each one reissued after a partial refund
    (generation 2, 3, ...). The typed link from a voucher back to its order; vouchers know nothing of orders."""

    __tablename__ = "order_vouchers"

    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"), primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    generation: Mapped[int]

    __table_args__ = (sa.UniqueConstraint("order_id", "generation"),)
