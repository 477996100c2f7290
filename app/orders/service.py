"""Orders: place (reserving stock atomically), pay, hand over, cancel, refund. Stock is taken by one conditional
`UPDATE store_stock … WHERE quantity >= :n` per SKU in key order (a CHECK is the last guard); status changes are
conditional updates, so two workers, or a notification delivered twice, change an order once."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import Product, Sku, StoreStock
from app.catalog.service import haversine_m
from app.coupons import checkout as coupons
from app.core import states, tasks
from app.core.clock import end_of_day, now_utc, shanghai_today, to_shanghai
from app.core.errors import BadRequest, NotFound
from app.extensions import db
from app.members import phone as phones
from app.members import service as members
from app.members.models import Member
from app.merchants import hours
from app.merchants.models import Merchant, Store
from app.orders import signals
from app.orders.errors import (
    ClosedBeforeReady, FieldErrors, OrderStateError, OutOfDeliveryRange, OutOfStock, PickedUp, StoreClosed,
)
from app.orders import signals
from app.orders.models import (
    TRANSITIONS, Fulfilment, Order, OrderEvent, OrderEventKind, OrderKind, OrderLine, OrderLineAdjustment, OrderStatus,
    OrderVoucher,
)
from app.payments import service as payments
from app.payments.models import PayMethod
from app.pricing import quote, refund_share
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher, VoucherSource, VoucherStatus

MAX_QUANTITY = 99
PICKUP_VALID_DAYS = 7


@dataclass(frozen=True)
class LineRequest:
    sku_id: int
    quantity: int


def _number(now: datetime) -> str:
    return f"{to_shanghai(now):%y%m%d}{secrets.randbelow(10**8):08d}"


def _transition(order: Order, to: OrderStatus, kind: OrderEventKind, *, note: str = "", **values) -> bool:
    """Moves `order` to `to` if it is still in a status that may (the database decides); True when this
    call did it, and then the change is in the order's timeline."""
    before = order.status
    done = states.transition(order, to, TRANSITIONS, **values)
    if done:
        db.session.add(OrderEvent(order_id=order.id, kind=kind, status_before=before.value, status_after=to.value,
                                  note=note[:255], created_at=now_utc()))
    return done


def _state_error(order: Order, action: str, action_en: str) -> OrderStateError:
    return OrderStateError(status=order.status.value, status_label=order.status_label,
                           action=action, action_en=action_en)


# ---------------------------------------------------------------- place

def place_order(
    merchant: Merchant, store: Store, member: Member, lines: list[LineRequest], *,
    pay_method: PayMethod, fulfilment: Fulfilment = Fulfilment.PICKUP, pickup_at: datetime | None = None,
    delivery_address: str | None = None, delivery_lat: float | None = None, delivery_lng: float | None = None,
    delivery_phone: str | None = None, note: str = "", coupon_id: int | None = None, discounts=(),
    kind: OrderKind = OrderKind.REGULAR,
) -> Order:
    """Places the order; with `coupon_id`, one of the member's coupons is applied by the quote and spent in this
    transaction (app.coupons.checkout); a ¥0 order is paid at once, without a provider. `discounts`: order-level
    discounts for the quote (a group price); `kind` GROUPBUY: a group-buy seat, whose paid order waits (GROUPING)
    for its team and is picked up once the team is complete, so the store need not be open now."""
    now = now_utc()
    if store.merchant_id != merchant.id or member.merchant_id != merchant.id or not store.active:
        raise NotFound()
    if pay_method is PayMethod.STORE and kind is OrderKind.GROUPBUY:
        raise BadRequest(field="pay", zh="拼团须在线支付。", en="A group-buy is paid online.")
    wanted: dict[int, int] = {}
    for line in lines:
        if line.quantity < 1 or line.quantity > MAX_QUANTITY:
            raise BadRequest(field="quantity", zh=f"数量须在 1 到 {MAX_QUANTITY} 之间。",
                             en=f"Quantity must be 1 to {MAX_QUANTITY}.")
        wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
    if not wanted:
        raise BadRequest(field="lines", zh="购物车是空的。", en="The cart is empty.")

    skus = {s.id: s for s in db.session.execute(
        sa.select(Sku).join(Product).where(Sku.id.in_(wanted), Product.merchant_id == merchant.id,
                                           Product.active.is_(True), Sku.active.is_(True))
        .options(selectinload(Sku.product))
    ).scalars()}
    if set(skus) != set(wanted):
        raise BadRequest(field="lines", zh="有商品已下架，请刷新购物车。", en="Some items are no longer sold.")

    distance = None
    if fulfilment is Fulfilment.PICKUP:
        if kind is not OrderKind.GROUPBUY:
            _check_open(store, pickup_at, now)
        delivery_address = delivery_phone = None
    else:
        if not store.delivery_radius_m:
            raise BadRequest(field="fulfilment", zh="本店不提供配送。", en="This store does not deliver.")
        _check_open(store, None, now)  # a store delivers while it is open, as soon as possible
        # Every field problem at once (FieldErrors), so the shopper fixes the form in one round trip.
        problems = []
        if not (delivery_address or "").strip():
            problems.append(BadRequest(field="delivery_address", zh="请填写配送地址。", en="Enter a delivery address."))
        try:
            delivery_phone = phones.normalise(delivery_phone)
        except phones.BadPhone:
            problems.append(BadRequest(
                field="delivery_phone", zh="请填写正确的 11 位手机号，方便门店配送时联系你。",
                en="Enter an 11-digit mobile number so the store can call you about the delivery."))
        if delivery_lat is None or delivery_lng is None:
            problems.append(BadRequest(field="delivery_location", zh="请允许获取位置，以确认在配送范围内。",
                                       en="Share your location so we can check the delivery range."))
        else:
            distance = round(haversine_m(store.latitude, store.longitude, delivery_lat, delivery_lng))
            if distance > store.delivery_radius_m:
                far = OutOfDeliveryRange(distance_m=distance, radius_m=store.delivery_radius_m)
                if not problems:
                    raise far
                problems.append(BadRequest(field="delivery_location", zh=far.message("zh"), en=far.message("en")))
        if problems:
            raise FieldErrors(problems)

    basket = [(skus[sku_id], qty) for sku_id, qty in wanted.items()]
    if coupon_id is not None:
        discounts = [*discounts, coupons.chosen(member.id, merchant.id, store.id, coupon_id, basket, member=member,
                                                now=now)]
    quoted = quote(basket, member=member, discounts=discounts)
    order_lines = []
    for priced in quoted.lines:
        sku = skus[priced.sku_id]
        order_lines.append(OrderLine(
            product_id=sku.product_id, sku_id=sku.id, product_name=sku.product.name, sku_name=sku.name,
            quantity=priced.quantity, unit_price_fen=priced.unit_fen, list_price_fen=priced.list_unit_fen,
            payable_fen=priced.payable_fen,
            adjustments=[OrderLineAdjustment(kind=a.kind, source=a.source, amount_fen=a.amount_fen)
                         for a in priced.adjustments]))
    order = Order(
        number=_number(now), merchant_id=merchant.id, store_id=store.id, member_id=member.id,
        status=OrderStatus.PENDING_PAYMENT, fulfilment=fulfilment, pay_method=pay_method, pickup_at=pickup_at,
        kind=kind,
        delivery_address=(delivery_address or "").strip()[:255] or None, delivery_distance_m=distance,
        delivery_phone=delivery_phone,
        total_fen=quoted.payable_fen, list_total_fen=quoted.list_total_fen,
        note=note[:255], created_at=now,
        expires_at=now + timedelta(minutes=merchant.unpaid_cancel_minutes),
    )
    order.lines = order_lines
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderEvent(order_id=order.id, kind=OrderEventKind.PLACED, status_before=None,
                              status_after=order.status.value, created_at=now))
    if coupon_id is not None:
        coupons.use(coupon_id, order.id, order.number, now=now)
    if quoted.payable_fen == 0:
        # Nothing to pay (a coupon covered it): confirmed now, no payment provider is asked for ¥0.
        order.expires_at = None
        if _transition(order, OrderStatus.READY, OrderEventKind.PAID, ready_at=now, paid_at=now, expires_at=None):
            _issue_pickup_voucher(order, now)
    elif pay_method is PayMethod.STORE:
        # Pay at the store: the voucher is issued now and the counter collects the amount due.
        order.expires_at = None
        _make_ready(order, now, kind=OrderEventKind.PAY_AT_STORE)
    else:
        # The deadline is the order row's expires_at; this message is only the fast path to it (the
        # periodic sweep in orders.tasks cancels anything it missed).
        tasks.schedule("orders.cancel_if_expired", order.id, eta=order.expires_at)
    db.session.flush()
    _reserve_stock(store, wanted, skus)
    return order


def _reserve_stock(store: Store, wanted: dict[int, int], skus: dict[int, Sku]) -> None:
    """Last in the transaction, so the stock rows stay locked only until the commit right after."""
    # Reserve stock: one conditional UPDATE per SKU, in primary-key order (no deadlocks between buyers).
    for sku_id in sorted(wanted):
        taken = db.session.execute(
            sa.update(StoreStock)
            .where(StoreStock.store_id == store.id, StoreStock.sku_id == sku_id, StoreStock.quantity >= wanted[sku_id])
            .values(quantity=StoreStock.quantity - wanted[sku_id])
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            available = db.session.execute(sa.select(StoreStock.quantity).where(
                StoreStock.store_id == store.id, StoreStock.sku_id == sku_id)).scalar() or 0
            sku = skus[sku_id]
            raise OutOfStock(product=f"{sku.product.name}（{sku.name}）", available=available, sku_id=sku_id)


def _check_open(store: Store, at: datetime | None, now: datetime) -> None:
    """A pickup at `at` (None: as soon as possible) is possible: StoreClosed when the store is closed then,
    or, for 尽快, closed now or closing before the order could be ready (whatever the pay method)."""
    if at is None:
        if hours.asap_ready_at(store, now) is None:
            raise ClosedBeforeReady(hours=store.hours_text)
        return
    if at < now - timedelta(minutes=1):
        raise BadRequest(field="pickup_at", zh="取货时间不能早于现在。", en="Pickup time is in the past.")
    if at > now + timedelta(days=7):
        raise BadRequest(field="pickup_at", zh="最多预约 7 天内取货。", en="Pickup within 7 days.")
    if not hours.is_open(store, at):
        raise StoreClosed(hours=store.hours_text)


def handover_text(order: Order) -> str:
    return "、".join(f"{l.product_name}（{l.sku_name}）×{l.open_quantity}" for l in order.lines if l.open_quantity)


def _issue_pickup_voucher(order: Order, now: datetime) -> Voucher:
    merchant = db.session.get(Merchant, order.merchant_id)
    store = db.session.get(Store, order.store_id)
    # A pre-sale is handed over from its pickup date (the counter refuses earlier: not_yet_valid).
    valid_from = max(now, order.hand_over_from) if order.hand_over_from else now
    first_day = shanghai_today(order.pickup_at or valid_from)
    label = "自提" if order.fulfilment is Fulfilment.PICKUP else "配送"
    generation = 1 + (db.session.execute(sa.select(sa.func.max(OrderVoucher.generation)).where(
        OrderVoucher.order_id == order.id)).scalar() or 0)
    voucher = vouchers.issue(
        merchant, title=f"{store.name} {label} · 订单 {order.number}", handover=handover_text(order),
        value_fen=order.total_fen - order.refunded_fen, source=VoucherSource.ORDER,
        source_ref=f"order:{order.id}:{generation}", member_id=order.member_id, store_ids=[order.store_id],
        valid_from=valid_from, valid_until=end_of_day(first_day + timedelta(days=PICKUP_VALID_DAYS - 1)),
    )
    db.session.add(OrderVoucher(voucher_id=voucher.id, order_id=order.id, generation=generation))
    order.voucher_id = voucher.id
    return voucher


def _make_ready(order: Order, now: datetime, *, kind: OrderEventKind) -> None:
    if _transition(order, OrderStatus.READY, kind, ready_at=now, expires_at=None):
        _issue_pickup_voucher(order, now)


def cancel_if_expired(order: Order, *, now: datetime | None = None) -> bool:
    """Cancels an unpaid order past its time now, instead of waiting for the job; True when it did."""
    now = now or now_utc()
    if order.status is OrderStatus.PENDING_PAYMENT and order.expires_at is not None and order.expires_at <= now:
        return cancel(order, reason="超时未支付，自动取消", now=now, kind=OrderEventKind.EXPIRED)
    return False


# ---------------------------------------------------------------- cancel / expire / complete

def _return_stock(order: Order, quantities: dict[int, int]) -> None:
    if order.is_presale:
        return  # a pre-sale's units are its campaign's stock, released by pre-sales (app.orders.signals)
    for sku_id in sorted(quantities):
        if quantities[sku_id] > 0:
            db.session.execute(
                sa.update(StoreStock).where(StoreStock.store_id == order.store_id, StoreStock.sku_id == sku_id)
                .values(quantity=StoreStock.quantity + quantities[sku_id]).execution_options(synchronize_session=False))


def _void_live_vouchers(order: Order, reason: str, keep: int | None = None) -> None:
    """Voids the order's vouchers still unused but `keep`: a refund racing another may have missed one."""
    for voucher in db.session.execute(sa.select(Voucher).join(OrderVoucher, OrderVoucher.voucher_id == Voucher.id).where(
            OrderVoucher.order_id == order.id, Voucher.status == VoucherStatus.ISSUED, Voucher.id != (keep or 0))).scalars():
        vouchers.void(voucher, reason=reason)


def _end_pickup_voucher(order: Order, reason: str) -> None:
    """Voids the order's pickup voucher (conditionally: a redeem first wins); a revoked one stays revoked."""
    voucher = db.session.get(Voucher, order.voucher_id)
    if voucher.status is not VoucherStatus.REVOKED:
        vouchers.void(voucher, reason=reason)


def cancel(order: Order, *, reason: str, now: datetime | None = None,
           kind: OrderEventKind = OrderEventKind.CANCELLED) -> bool:
    """Cancels an unpaid order and returns its stock; True when this call did it. A pay-at-store order
    that is waiting for pickup may be cancelled too (nothing was paid): its voucher is voided."""
    now = now or now_utc()
    unpaid_ready = order.status is OrderStatus.READY and order.pay_method is PayMethod.STORE and order.paid_at is None
    if order.status is not OrderStatus.PENDING_PAYMENT and not unpaid_ready:
        raise _state_error(order, "取消", "cancel")
    if unpaid_ready:
        _end_pickup_voucher(order, f"订单取消：{reason}")
    if not _transition(order, OrderStatus.CANCELLED, kind, note=reason, cancelled_at=now,
                       cancel_reason=reason[:255], expires_at=None):
        return False
    _return_stock(order, {l.sku_id: l.open_quantity for l in order.lines})
    payments.close_open_payments(order.id)
    coupons.give_back(order.id, order.number, now=now)
    signals.cancelled.send(order, now=now)
    return True


def expired_unpaid(now: datetime, limit: int = 200) -> list[int]:
    return list(db.session.execute(
        sa.select(Order.id).where(Order.status == OrderStatus.PENDING_PAYMENT, Order.expires_at <= now)
        .order_by(Order.id).limit(limit)
    ).scalars())


def complete_picked_up(now: datetime, *, after: timedelta = timedelta(days=7)) -> int:
    """Picked-up orders become completed once the refund window after pickup has closed."""
    ids = db.session.execute(sa.select(Order.id).where(
        Order.status == OrderStatus.PICKED_UP, Order.picked_up_at <= now - after).limit(500)).scalars().all()
    done = 0
    for order_id in ids:
        done += _transition(db.session.get(Order, order_id), OrderStatus.COMPLETED, OrderEventKind.COMPLETED,
                            completed_at=now)
    return done


# ---------------------------------------------------------------- refund

def refund(order: Order, *, reason: str, quantities: dict[int, int] | None = None, now: datetime | None = None):
    """Refunds the whole order, or `quantities` {order_line_id: n}, while its voucher is not redeemed: records the
    refund (the money moves after the commit, with retries), returns the stock, voids the pickup voucher and
    issues one for the lines left. Returns the Refund, or None when nothing was paid (a pay-at-store order is
    cancelled). A group-buy order in GROUPING is refunded by group-buys only (`app.orders.grouping`)."""
    now = now or now_utc()
    if order.status is OrderStatus.PICKED_UP or order.status is OrderStatus.COMPLETED:
        raise PickedUp()
    if order.status is not OrderStatus.READY:
        raise _state_error(order, "退款", "refund")
    if order.paid_at is None:
        cancel(order, reason=reason, now=now)
        return None
    by_id = {l.id: l for l in order.lines}
    quantities = quantities or {l.id: l.open_quantity for l in order.lines}
    for line_id, qty in quantities.items():
        line = by_id.get(line_id)
        if line is None or qty < 0 or qty > line.open_quantity:
            raise BadRequest(field="lines", zh="退款数量有误。", en="Wrong refund quantity.")
    quantities = {k: v for k, v in quantities.items() if v}
    if not quantities:
        raise BadRequest(field="lines", zh="请选择要退款的商品。", en="Choose what to refund.")

    # Refunds and redemptions exclude each other: voiding is conditional on the voucher being unused,
    # so a refund racing a redeem at the counter loses cleanly (already_redeemed) or wins cleanly.
    _end_pickup_voucher(order, f"订单退款：{reason}")

    amount = 0
    for line_id, qty in sorted(quantities.items()):
        line = by_id[line_id]
        # Conditional on the refunded count read here: the share returned depends on it (refund_share).
        moved = db.session.execute(
            sa.update(OrderLine).where(OrderLine.id == line_id, OrderLine.refunded_quantity == line.refunded_quantity,
                                       OrderLine.refunded_quantity + qty <= OrderLine.quantity)
            .values(refunded_quantity=OrderLine.refunded_quantity + qty).execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            raise BadRequest(field="lines", zh="退款数量有误。", en="Wrong refund quantity.")
        amount += refund_share(line.payable_fen, line.quantity, refunded=line.refunded_quantity, taking=qty)
    _return_stock(order, {by_id[i].sku_id: q for i, q in quantities.items()})
    db.session.execute(sa.update(Order).where(Order.id == order.id)
                       .values(refunded_fen=Order.refunded_fen + amount).execution_options(synchronize_session=False))
    db.session.expire(order)
    for line in order.lines:
        db.session.expire(line)
    if all(l.open_quantity == 0 for l in order.lines):
        if _transition(order, OrderStatus.REFUNDED, OrderEventKind.REFUNDED, note=reason, refunded_at=now):
            coupons.give_back(order.id, order.number, now=now)
            signals.refunded.send(order, now=now)
        _void_live_vouchers(order, f"订单退款：{reason}")
    else:
        _void_live_vouchers(order, f"订单退款：{reason}", keep=_issue_pickup_voucher(order, now).id)
    return _record_refund(order, amount, reason)


def _record_refund(order: Order, amount: int, reason: str):
    if amount == 0:
        return None  # a ¥0 order (a coupon paid for it): nothing goes back to a provider
    merchant = db.session.get(Merchant, order.merchant_id)
    points = amount // merchant.fen_per_point
    rows = payments.request_refund(merchant_id=order.merchant_id, order_id=order.id, amount_fen=amount, reason=reason)
    if points:
        members.change_points(order.member_id, -points, reason=f"订单 {order.number} 退款",
                              ref=f"refund:{rows[0].out_refund_no}")
    return rows[0]


def orders_of(member: Member, limit: int = 50) -> list[Order]:
    return list(db.session.execute(
        sa.select(Order).where(Order.member_id == member.id).order_by(Order.id.desc()).limit(limit)
        .options(selectinload(Order.lines))
    ).scalars())


def timeline(order: Order) -> list[OrderEvent]:
    return list(db.session.execute(
        sa.select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)).scalars())

