"""Cart, checkout, paying in the sandbox, the order page, refund, cancel, the member page and reviews,
through the Flask test client (flow 2: pre-order for pickup)."""
from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.catalog.models import Product, Review, Sku, StoreStock
from app.core.clock import SHANGHAI
from app.extensions import db as _db
from app.members.service import demo_member
from app.orders.models import Order, OrderStatus
from app.payments import service as payments
from app.payments.models import Refund
from app.vouchers import codes
from app.vouchers.models import Voucher
from tests.conftest import member_client
from tests.support.factories import set_hours
from tests.vouchers.helpers import bearer

SLUG = "test-coffee"


@pytest.fixture
def shop(db, world):
    m = world.merchant
    latte = Product(merchant_id=m.id, name="拿铁", image="img/products/latte.png")
    latte.skus = [Sku(name="中杯", price_fen=2800, member_price_fen=2500),
                  Sku(name="大杯", price_fen=3200, member_price_fen=2900)]
    bagel = Product(merchant_id=m.id, name="贝果", image="img/products/bagel.png")
    bagel.skus = [Sku(name="原味", price_fen=1500)]
    db.session.add_all([latte, bagel])
    db.session.flush()
    medium, large = latte.skus
    plain = bagel.skus[0]
    db.session.add_all([
        StoreStock(store_id=world.store.id, sku_id=medium.id, quantity=10),
        StoreStock(store_id=world.store.id, sku_id=large.id, quantity=1),
        StoreStock(store_id=world.store.id, sku_id=plain.id, quantity=5),
        StoreStock(store_id=world.store_b.id, sku_id=medium.id, quantity=3),
    ])
    member = demo_member(m.id, "小明")
    other = demo_member(m.id, "小红")
    db.session.commit()
    return SimpleNamespace(merchant=m, store=world.store, store_b=world.store_b, latte=latte, bagel=bagel,
                           medium=medium, large=large, plain=plain, member=member, other=other)


def _client(app, member=None):
    return member_client(app, member) if member is not None else app.test_client()


@pytest.fixture
def me(app, shop):
    return _client(app, shop.member)


@pytest.fixture
def stranger(app, shop):
    return _client(app, shop.other)


def set_stock(store, sku, quantity: int) -> None:
    _db.session.execute(sa.update(StoreStock).where(StoreStock.store_id == store.id, StoreStock.sku_id == sku.id)
                        .values(quantity=quantity))
    _db.session.commit()


def stock(store, sku) -> int:
    return _db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store.id, StoreStock.sku_id == sku.id)).scalar_one()


def add(c, shop, sku, quantity=1, store=None, **extra):
    return c.post(f"/m/{SLUG}/cart/add", data={"store_id": (store or shop.store).id, "sku_id": sku.id,
                                                "quantity": quantity, **extra})


def place(c, **form):
    form.setdefault("pickup_at", "asap")
    form.setdefault("pay", "online")
    return c.post(f"/m/{SLUG}/checkout", data=form)


def order_id_of(response) -> int:
    return int(re.search(r"/orders/(\d+)", response.headers["Location"]).group(1))


def pay_in_sandbox(c, order_id: int):
    r = c.get(f"/orders/{order_id}/pay")
    assert r.status_code == 302 and "/pay/sandbox/" in r.headers["Location"]
    r = c.post(r.headers["Location"], data={"result": "success"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/orders/{order_id}")


def paid_order(c, shop, sku=None, quantity=2) -> Order:
    add(c, shop, sku or shop.medium, quantity)
    r = place(c)
    order_id = order_id_of(r)
    pay_in_sandbox(c, order_id)
    return _db.session.get(Order, order_id)


def text(response) -> str:
    return response.get_data(as_text=True)


def redeem_at_counter(client, world, order: Order):
    code = _db.session.get(Voucher, order.voucher_id).code
    r = client.post("/api/v1/counter/redeem", json={"code": code}, headers=bearer(world.counter_key))
    assert r.status_code == 200, r.json


def delivery_order(c, shop, *, pay="online", quantity=1) -> Order:
    """A store-delivery order (门店配送) within range, paid in the sandbox or to pay on delivery."""
    shop.store.delivery_radius_m = 3000
    _db.session.commit()
    add(c, shop, shop.medium, quantity)
    r = place(c, fulfilment="delivery", delivery_address="建国路 1 号", delivery_phone="13800138000",
              lat="39.9100", lng="116.4620", pay=pay)
    assert r.status_code == 302, text(r)
    order_id = order_id_of(r)
    if pay == "online":
        pay_in_sandbox(c, order_id)
    return _db.session.get(Order, order_id)


def step_labels(page: str) -> list[str]:
    return re.findall(r'data-step="([^"]+)"', page)


@pytest.fixture
def queue(app):
    """The app's real job queue, holding its messages instead of running them right after the commit (as a
    queue does while the worker is busy): the refund stays pending until the test runs the queue."""
    huey = app.extensions["huey"]
    huey.immediate = False
    yield huey
    huey.immediate = True


def run_queue(huey) -> int:
    """The worker gets to the queued messages: each runs through the app's task, as in a worker."""
    ran = 0
    while (message := huey.dequeue()) is not None:
        huey.execute(message)
        ran += 1
    return ran


# ---------------------------------------------------------------------------------------------- cart

def test_cart_add_update_remove_with_member_prices_and_a_stock_warning(me, shop):
    r = add(me, shop, shop.medium, 2)
    assert r.status_code == 302 and r.headers["Location"].startswith(f"/m/{SLUG}/cart")
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert "拿铁" in page and "中杯" in page and shop.store.name in page
    assert "¥25.00" in page and 'data-testid="cart-total">¥50.00' in page  # member price when signed in
    assert "stock-warning" not in page

    set_stock(shop.store, shop.large, 2)
    add(me, shop, shop.large, 2)
    set_stock(shop.store, shop.large, 1)  # one sold elsewhere since: the cart says so
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert 'data-testid="stock-warning">本店仅剩 1 件' in page
    assert 'data-testid="cart-total">¥108.00' in page

    me.post(f"/m/{SLUG}/cart/update", data={"sku_id": shop.large.id, "quantity": 0})
    me.post(f"/m/{SLUG}/cart/update", data={"sku_id": shop.medium.id, "quantity": 3})
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert "大杯" not in page and 'data-testid="cart-total">¥75.00' in page and 'data-quantity="3"' in page

    me.post(f"/m/{SLUG}/cart/update", data={"action": "clear"})
    assert 'data-testid="cart-empty"' in text(me.get(f"/m/{SLUG}/cart"))


def test_cart_shows_list_prices_to_a_guest_and_refuses_bad_input(app, shop):
    guest = _client(app)
    add(guest, shop, shop.medium, 1)
    page = text(guest.get(f"/m/{SLUG}/cart"))
    assert 'data-testid="cart-total">¥28.00' in page and "会员价 ¥25.00" in page
    assert add(guest, shop, shop.medium, 0).status_code == 400
    assert add(guest, shop, shop.medium, 100).status_code == 400
    assert guest.post(f"/m/{SLUG}/cart/add", data={"store_id": shop.store.id, "sku_id": 999999}).status_code == 404
    assert add(guest, shop, shop.medium, 1, store=SimpleNamespace(id=999999)).status_code == 404


def test_one_store_per_cart_switching_asks_then_clears(me, shop):
    add(me, shop, shop.medium, 2)
    r = add(me, shop, shop.medium, 1, store=shop.store_b)
    assert r.status_code == 200 and 'data-testid="cart-switch"' in text(r)
    assert shop.store.name in text(r) and shop.store_b.name in text(r)
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert f'data-store-id="{shop.store.id}"' in page and 'data-quantity="2"' in page  # unchanged

    r = add(me, shop, shop.medium, 1, store=shop.store_b, replace="1")
    assert r.status_code == 302
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert f'data-store-id="{shop.store_b.id}"' in page and 'data-quantity="1"' in page

    # Opening the cart for another store while it holds items asks too; the button switches and clears.
    assert 'data-testid="cart-switch"' in text(me.get(f"/m/{SLUG}/cart?store={shop.store.id}"))
    me.post(f"/m/{SLUG}/cart/update", data={"action": "switch", "store_id": shop.store.id})
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert 'data-testid="cart-empty"' in page and f'data-store-id="{shop.store.id}"' in page


def test_buy_now_goes_straight_to_checkout_and_checkout_needs_sign_in(app, me, shop):
    r = add(me, shop, shop.medium, 1, buy_now="1")
    assert r.status_code == 302 and r.headers["Location"].startswith(f"/m/{SLUG}/checkout?buy=")
    guest = _client(app)
    add(guest, shop, shop.medium, 1)
    r = guest.get(f"/m/{SLUG}/checkout")
    assert r.status_code == 302 and f"/m/{SLUG}/signin" in r.headers["Location"]
    assert "next=" in r.headers["Location"] and "checkout" in r.headers["Location"]


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(me, shop):
    r = me.get(f"/m/{SLUG}/checkout")
    assert r.status_code == 302 and r.headers["Location"] == f"/m/{SLUG}/cart"


# ---------------------------------------------------------------------------------------------- checkout + pay

def test_checkout_offers_half_hour_slots_within_opening_hours_and_the_sandbox(me, shop, frozen):
    set_hours(shop.store, "08:00", "21:00")
    _db.session.commit()
    add(me, shop, shop.medium, 2)
    page = text(me.get(f"/m/{SLUG}/checkout"))
    # 14:00 in Shanghai now: the first slot is 14:30 (15 minutes to prepare), the last 20:30 (a slot is before
    # closing); tomorrow from 08:00.
    assert 'value="asap"' in page
    assert 'value="2026-11-23T14:30:00+08:00"' in page and 'value="2026-11-23T14:00:00+08:00"' not in page
    assert 'value="2026-11-23T20:30:00+08:00"' in page and 'value="2026-11-23T21:00:00+08:00"' not in page
    assert 'value="2026-11-24T08:00:00+08:00"' in page and 'value="2026-11-24T07:30:00+08:00"' not in page
    assert "模拟支付（沙箱）" in page and "到店支付" in page
    assert "门店配送" not in page  # this store does not deliver
    assert 'data-testid="checkout-total">¥50.00' in page


def test_pickup_paid_in_the_sandbox_gets_a_voucher(me, shop, frozen):
    add(me, shop, shop.medium, 2)
    r = place(me, pickup_at="2026-11-23T15:00:00+08:00", note="少冰")
    assert r.status_code == 302 and re.fullmatch(r"/orders/\d+/pay", r.headers["Location"])
    order_id = order_id_of(r)
    order = _db.session.get(Order, order_id)
    assert order.status is OrderStatus.PENDING_PAYMENT and order.total_fen == 5000 and order.list_total_fen == 5600
    assert order.pickup_at == datetime(2026, 11, 23, 15, tzinfo=SHANGHAI)
    assert stock(shop.store, shop.medium) == 8  # reserved at once
    assert 'data-testid="cart-empty"' in text(me.get(f"/m/{SLUG}/cart"))

    pending = text(me.get(f"/orders/{order_id}"))
    assert 'data-testid="order-status">待支付' in pending and 'data-testid="pay-button"' in pending
    assert 'data-testid="cancel-button"' in pending and 'data-testid="time-left">15:00' in pending

    pay_in_sandbox(me, order_id)
    page = text(me.get(f"/orders/{order_id}"))
    _db.session.expire_all()
    order = _db.session.get(Order, order_id)
    voucher = _db.session.get(Voucher, order.voucher_id)
    assert order.status is OrderStatus.READY
    assert 'data-testid="order-status">待取货' in page
    assert f'data-testid="voucher-code">{codes.pretty(voucher.code)}<' in page
    assert 'data-testid="voucher-qr"' in page and "/qr.svg" in page and "shop/voucher.js" in page
    assert 'data-testid="refund-button"' in page and 'data-testid="pay-button"' not in page
    assert shop.store.address in page and shop.store.phone in page
    assert "−¥6.00" in page  # member saving
    assert "11-23 14:00" in page  # timeline in Shanghai time
    assert voucher.member_id == shop.member.id and voucher.store_ids == [shop.store.id]
    _db.session.refresh(shop.member)
    assert shop.member.points == 50

    # Paying again is not possible: the pay link leads back to the order.
    r = me.get(f"/orders/{order_id}/pay")
    assert r.status_code == 302 and r.headers["Location"] == f"/orders/{order_id}"


def test_pay_at_store_is_ready_at_once(me, shop):
    add(me, shop, shop.medium, 2)
    r = place(me, pay="store")
    assert r.status_code == 302 and re.fullmatch(r"/orders/\d+", r.headers["Location"])
    order = _db.session.get(Order, order_id_of(r))
    assert order.status is OrderStatus.READY and order.voucher_id and order.paid_at is None
    assert stock(shop.store, shop.medium) == 8
    page = text(me.get(r.headers["Location"]))
    assert 'data-testid="order-status">待取货' in page and 'data-testid="amount-due">到店支付 ¥50.00' in page
    assert 'data-testid="voucher-code"' in page
    # Nothing was paid: it can be cancelled (no refund), which voids the voucher and returns the stock.
    assert 'data-testid="refund-button"' not in page and 'data-testid="cancel-button"' in page
    me.post(f"/orders/{order.id}/cancel")
    _db.session.expire_all()
    assert order.status is OrderStatus.CANCELLED and stock(shop.store, shop.medium) == 10
    assert _db.session.get(Voucher, order.voucher_id).status.value == "void"


def test_double_submit_places_one_order(me, shop):
    add(me, shop, shop.medium, 1)
    nonce = re.search(r'name="nonce" value="([^"]+)"', text(me.get(f"/m/{SLUG}/checkout"))).group(1)
    first = place(me, nonce=nonce)
    second = place(me, nonce=nonce)
    assert first.headers["Location"] == second.headers["Location"]
    assert _db.session.execute(sa.select(sa.func.count(Order.id))).scalar() == 1


def test_cancel_a_pending_order_returns_the_stock(me, shop):
    add(me, shop, shop.medium, 3)
    order_id = order_id_of(place(me))
    assert stock(shop.store, shop.medium) == 7
    r = me.post(f"/orders/{order_id}/cancel")
    assert r.status_code == 302
    page = text(me.get(f"/orders/{order_id}"))
    assert 'data-testid="order-status">已取消' in page and "pay-button" not in page
    assert stock(shop.store, shop.medium) == 10
    assert me.post(f"/orders/{order_id}/cancel").status_code == 409  # once


# ---------------------------------------------------------------------------------------------- refund

def test_refund_before_pickup_voids_the_voucher_and_returns_the_stock(me, shop):
    order = paid_order(me, shop)
    voucher_id = order.voucher_id
    assert stock(shop.store, shop.medium) == 8
    assert me.post(f"/orders/{order.id}/refund", data={"reason": ""}).status_code == 400  # a reason is required
    r = me.post(f"/orders/{order.id}/refund", data={"reason": "不想要了"})
    assert r.status_code == 302
    page = text(me.get(f"/orders/{order.id}"))
    _db.session.expire_all()
    assert order.status is OrderStatus.REFUNDED and order.refunded_fen == 5000
    assert 'data-testid="order-status">已退款' in page
    assert 'data-testid="refund-status" data-status="succeeded"' in page  # the sandbox refunds at once
    assert "voucher-qr" not in page and "refund-button" not in page
    assert _db.session.get(Voucher, voucher_id).status.value == "void"
    assert stock(shop.store, shop.medium) == 10
    _db.session.refresh(shop.member)
    assert shop.member.points == 0
    assert me.post(f"/orders/{order.id}/refund", data={"reason": "不想要了"}).status_code == 409


def test_partial_refund_of_one_line_keeps_the_rest_ready_with_a_new_voucher(me, shop):
    add(me, shop, shop.plain, 2)
    order = paid_order(me, shop, shop.medium, 2)
    lines = {l.sku_id: l for l in order.lines}
    old_voucher = order.voucher_id
    form = {"reason": "买错了/买多了", f"qty_{lines[shop.medium.id].id}": 1, f"qty_{lines[shop.plain.id].id}": 0}
    assert me.post(f"/orders/{order.id}/refund", data=form).status_code == 302
    _db.session.expire_all()
    assert order.status is OrderStatus.READY and order.refunded_fen == 2500
    assert order.voucher_id != old_voucher and _db.session.get(Voucher, old_voucher).status.value == "void"
    assert stock(shop.store, shop.medium) == 9 and stock(shop.store, shop.plain) == 3
    page = text(me.get(f"/orders/{order.id}"))
    assert "已退 1 件" in page and 'data-testid="order-status">待取货' in page
    assert codes.pretty(_db.session.get(Voucher, order.voucher_id).code) in page


def test_a_picked_up_order_cannot_be_refunded(client, me, shop, world):
    order = paid_order(me, shop)
    code = _db.session.get(Voucher, order.voucher_id).code
    r = client.post("/api/v1/counter/redeem", json={"code": code}, headers=bearer(world.counter_key))
    assert r.status_code == 200, r.json
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">已取货' in page and "refund-button" not in page
    r = me.post(f"/orders/{order.id}/refund", data={"reason": "不想要了"})
    assert r.status_code == 409 and 'data-code="already_picked_up"' in text(r)


# ---------------------------------------------------------------------------------------------- errors

def test_out_of_stock_is_a_409_naming_the_product(me, shop):
    add(me, shop, shop.medium, 1)
    set_stock(shop.store, shop.large, 2)
    add(me, shop, shop.large, 2)
    set_stock(shop.store, shop.large, 1)  # one sold elsewhere while this cart waited
    r = place(me)
    assert r.status_code == 409
    body = text(r)
    assert 'data-code="out_of_stock"' in body and "拿铁（大杯）" in body and "仅剩 1 件" in body
    assert stock(shop.store, shop.medium) == 10 and stock(shop.store, shop.large) == 1  # nothing taken
    assert _db.session.execute(sa.select(sa.func.count(Order.id))).scalar() == 0
    assert 'data-quantity="2"' in text(me.get(f"/m/{SLUG}/cart"))  # the cart is kept to fix
    json = me.post(f"/m/{SLUG}/checkout", data={"pickup_at": "asap"}, headers={"Accept": "application/json"})
    assert json.status_code == 409 and json.json["error"]["code"] == "out_of_stock"


def test_a_pickup_time_outside_opening_hours_is_store_closed(me, shop, frozen):
    set_hours(shop.store, "08:00", "21:00")
    _db.session.commit()
    add(me, shop, shop.medium, 1)
    r = place(me, pickup_at="2026-11-23T22:30:00+08:00")
    assert r.status_code == 409 and 'data-code="store_closed"' in text(r) and "08:00–21:00" in text(r)
    r = place(me, pickup_at="2026-11-23T21:00:00+08:00")  # closing time: the store is closed then
    assert r.status_code == 409 and 'data-code="store_closed"' in text(r)
    r = place(me, pickup_at="2026-11-23T13:00:00+08:00")  # the past
    assert r.status_code == 400 and 'data-code="bad_request"' in text(r)
    r = place(me, pickup_at="tomorrow-ish")
    assert r.status_code == 400
    assert stock(shop.store, shop.medium) == 10


def test_delivery_needs_an_address_a_phone_and_a_location_in_range(me, shop, client, world):
    shop.store.delivery_radius_m = 3000
    _db.session.commit()
    add(me, shop, shop.medium, 1)
    page = text(me.get(f"/m/{SLUG}/checkout"))
    assert "门店配送" in page and "使用当前位置" in page
    where = {"fulfilment": "delivery", "delivery_address": "建国路 1 号", "delivery_phone": "138 0013 8000"}
    r = place(me, **where)
    assert r.status_code == 400 and "请允许获取位置" in text(r)
    r = place(me, **{**where, "delivery_phone": ""})
    assert r.status_code == 400 and "方便门店配送时联系你" in text(r)
    r = place(me, **{**where, "delivery_address": "远处"}, lat="40.2", lng="116.9")
    assert r.status_code == 409 and 'data-code="out_of_delivery_range"' in text(r)
    r = place(me, **where, lat="39.9100", lng="116.4620", pay="store")
    order = _db.session.get(Order, order_id_of(r))
    assert order.fulfilment.value == "delivery" and order.delivery_distance_m < 300
    assert order.delivery_phone == "13800138000"
    page = text(me.get(f"/orders/{order.id}"))
    assert "建国路 1 号" in page and "13800138000" in page
    # the counter sees where it goes and whom to call, and what to collect
    code = _db.session.get(Voucher, order.voucher_id).code
    r = client.post("/api/v1/counter/verify", json={"code": code}, headers=bearer(world.counter_key))
    assert r.status_code == 200, r.json
    assert r.json["order"]["delivery_address"] == "建国路 1 号" and r.json["order"]["delivery_phone"] == "13800138000"
    assert r.json["order"]["amount_due_fen"] == order.total_fen > 0


def test_the_delivery_phone_starts_as_the_members_bound_number(me, shop):
    shop.store.delivery_radius_m = 3000
    _db.session.commit()
    add(me, shop, shop.medium, 1)
    assert re.search(r'name="delivery_phone"[^>]*value=""', text(me.get(f"/m/{SLUG}/checkout")))
    shop.member.phone = "13900139000"
    _db.session.commit()
    assert re.search(r'name="delivery_phone"[^>]*value="13900139000"', text(me.get(f"/m/{SLUG}/checkout")))


# ---------------------------------------------------------------------------------------------- access

def test_only_the_owner_sees_or_changes_an_order(app, me, stranger, shop):
    order = paid_order(me, shop)
    for method, url in (("get", f"/orders/{order.id}"), ("get", f"/orders/{order.id}/pay"),
                        ("get", f"/orders/{order.id}/status"), ("post", f"/orders/{order.id}/refund"),
                        ("post", f"/orders/{order.id}/cancel"),
                        ("get", f"/orders/{order.id}/review/{shop.latte.id}")):
        r = getattr(stranger, method)(url, data={"reason": "x"} if method == "post" else None)
        assert r.status_code == 404, url
    assert me.get("/orders/999999").status_code == 404
    guest = _client(app)
    r = guest.get(f"/orders/{order.id}")
    assert r.status_code == 302 and f"/m/{SLUG}/signin" in r.headers["Location"]
    _db.session.expire_all()
    assert order.status is OrderStatus.READY


# ---------------------------------------------------------------------------------------------- me + reviews

def test_me_lists_orders_vouchers_points_and_what_to_review(client, me, shop, world):
    pending_id = order_id_of((add(me, shop, shop.plain, 1), place(me))[1])
    order = paid_order(me, shop)
    r = me.get(f"/orders/{order.id}/review/{shop.latte.id}")
    assert r.status_code == 409 and 'data-code="review_not_allowed"' in text(r)  # not picked up yet

    page = text(me.get(f"/m/{SLUG}/me"))
    assert 'data-testid="points">50<' in page and "消费" in page
    assert page.index(f'data-order-id="{order.id}"') < page.index(f'data-order-id="{pending_id}"')  # latest first
    assert "待支付" in page and "待取货" in page
    assert 'data-testid="voucher-row" data-status="issued"' in page and "to-review" not in page

    code = _db.session.get(Voucher, order.voucher_id).code
    assert client.post("/api/v1/counter/redeem", json={"code": code}, headers=bearer(world.counter_key)).status_code == 200
    page = text(me.get(f"/m/{SLUG}/me"))
    assert 'data-testid="to-review"' in page and f"/orders/{order.id}/review/{shop.latte.id}" in page
    assert "voucher-row" not in page  # the valid tab is empty now
    assert 'data-testid="voucher-row" data-status="redeemed"' in text(me.get(f"/m/{SLUG}/me?tab=used"))

    assert 'data-testid="review-form"' in text(me.get(f"/orders/{order.id}/review/{shop.latte.id}"))
    assert me.post(f"/orders/{order.id}/review/{shop.latte.id}", data={"rating": 9}).status_code == 400
    r = me.post(f"/orders/{order.id}/review/{shop.latte.id}", data={"rating": 4, "body": "好喝"})
    assert r.status_code == 302 and r.headers["Location"] == f"/m/{SLUG}/me"
    review = _db.session.execute(sa.select(Review)).scalar_one()
    assert (review.rating, review.body, review.member_id, review.order_id) == (4, "好喝", shop.member.id, order.id)
    page = text(me.get(f"/m/{SLUG}/me"))
    assert "to-review" not in page and "感谢评价" in page
    r = me.post(f"/orders/{order.id}/review/{shop.latte.id}", data={"rating": 5})
    assert r.status_code == 409 and 'data-code="already_reviewed"' in text(r)
    assert me.get(f"/orders/{order.id}/review/{shop.bagel.id}").status_code == 404  # not in this order


def test_me_needs_sign_in(app, shop):
    r = _client(app).get(f"/m/{SLUG}/me")
    assert r.status_code == 302 and f"/m/{SLUG}/signin" in r.headers["Location"]


def test_refunds_are_listed_with_their_status(me, shop):
    order = paid_order(me, shop)
    me.post(f"/orders/{order.id}/refund", data={"reason": "其他", "detail": "临时有事"})
    refund = _db.session.execute(sa.select(Refund).where(Refund.order_id == order.id)).scalar_one()
    assert refund.reason == "临时有事" and refund.amount_fen == 5000
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="refunds"' in page and "退款成功" in page


# ---------------------------------------------------------------------------------------------- live status

def test_the_order_page_asks_for_its_status_only_while_something_can_still_change(client, me, shop, world):
    pending_id = order_id_of((add(me, shop, shop.plain, 1), place(me))[1])
    page = text(me.get(f"/orders/{pending_id}"))
    assert f'data-poll-url="/orders/{pending_id}/status" data-poll-seconds="5"' in page
    order = paid_order(me, shop)
    page = text(me.get(f"/orders/{order.id}"))
    assert f'data-poll-url="/orders/{order.id}/status"' in page and 'data-refunding="0"' in page
    assert me.get(f"/orders/{order.id}/status").json == {
        "id": order.id, "status": "ready", "label": "待取货", "refunding": False}

    redeem_at_counter(client, world, order)
    assert me.get(f"/orders/{order.id}/status").json["status"] == "picked_up"
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">已取货' in page and "data-poll-url" not in page  # nothing more to wait for
    me.post(f"/orders/{pending_id}/cancel")
    assert "data-poll-url" not in text(me.get(f"/orders/{pending_id}"))


# ---------------------------------------------------------------------------------------------- delivery wording

def test_a_delivery_order_reads_as_a_delivery_everywhere(client, me, shop, world):
    order = delivery_order(me, shop)
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">待配送' in page
    assert 'data-testid="voucher-title">收货凭证' in page
    assert "配送员送达时出示二维码，或报出收货码" in page and "收货码" in page and "门店配送" in page
    assert step_labels(page) == ["下单", "已支付", "待配送", "已送达"]
    assert "无法按时收货" in page  # the refund reasons too
    assert "取货" not in page and "自提" not in page
    assert me.get(f"/orders/{order.id}/status").json["label"] == "待配送"
    assert f'data-order-id="{order.id}" data-status="ready"' in (me_page := text(me.get(f"/m/{SLUG}/me")))
    assert ">待配送</span>" in me_page and "待取货" not in me_page

    english = text(me.get(f"/orders/{order.id}?lang=en"))
    assert 'data-testid="order-status">Awaiting delivery' in english and "Delivery voucher" in english
    assert "Show the QR to the courier on arrival" in english and "Ready for pickup" not in english
    me.get(f"/orders/{order.id}?lang=zh")

    redeem_at_counter(client, world, order)
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">已送达' in page and step_labels(page)[-1] == "已送达"
    assert 'data-testid="voucher-title">收货凭证' in page and "取货" not in page
    assert ">已送达</span>" in text(me.get(f"/m/{SLUG}/me"))


def test_a_delivery_paid_on_arrival_says_so_and_pickup_orders_keep_their_words(me, shop):
    order = delivery_order(me, shop, pay="store")
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">待配送' in page
    assert 'data-testid="amount-due">送达时支付 ¥25.00' in page and "货到付款" in page
    assert step_labels(page) == ["下单", "待配送", "已送达"] and "到店" not in page and "取货" not in page

    pickup = paid_order(me, shop)
    page = text(me.get(f"/orders/{pickup.id}"))
    assert 'data-testid="order-status">待取货' in page and 'data-testid="voucher-title">取货凭证' in page
    assert "向店员出示二维码，或报出取货码" in page and step_labels(page) == ["下单", "已支付", "待取货", "已取货"]
    assert "配送" not in page and "收货" not in page and "无法按时取货" in page


# ---------------------------------------------------------------------------------------------- failed payment

def sandbox_url(c, order_id: int) -> str:
    r = c.get(f"/orders/{order_id}/pay")
    assert r.status_code == 302 and "/pay/sandbox/" in r.headers["Location"]
    return r.headers["Location"]


def test_a_failed_sandbox_payment_says_so_on_the_order_page_and_it_can_be_paid_again(me, shop):
    add(me, shop, shop.medium, 2)
    order_id = order_id_of(place(me))
    first = sandbox_url(me, order_id)
    r = me.post(first, data={"result": "fail"})
    assert r.status_code == 302 and r.headers["Location"] == f"/orders/{order_id}"
    page = text(me.get(f"/orders/{order_id}"))
    assert 'class="sp-flash" role="status">支付未成功，可以重新支付<' in page
    assert 'data-testid="order-status">待支付' in page and 'data-testid="pay-button"' in page
    assert "支付未成功" not in text(me.get(f"/orders/{order_id}"))  # said once

    second = sandbox_url(me, order_id)  # a new attempt
    assert second != first
    me.post(second, data={"result": "fail"})
    english = text(me.get(f"/orders/{order_id}?lang=en"))
    assert "The payment did not go through. You can pay again." in english
    me.get(f"/orders/{order_id}?lang=zh")

    third = sandbox_url(me, order_id)
    me.post(third, data={"result": "success"})
    me.post(third, data={"result": "fail"})  # too late: this payment went through
    page = text(me.get(f"/orders/{order_id}"))
    assert 'data-testid="order-status">待取货' in page and "支付未成功" not in page


# ---------------------------------------------------------------------------------------------- refund in progress

def test_a_refund_on_its_way_is_shown_as_in_progress_until_the_money_is_back(me, shop, queue):
    order = paid_order(me, shop)
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-confirm="确定提交退款吗？提交后不能撤销。"' in page  # the refund form asks first
    assert me.post(f"/orders/{order.id}/refund", data={"reason": "不想要了"}).status_code == 302
    refund = _db.session.execute(sa.select(Refund).where(Refund.order_id == order.id)).scalar_one()
    assert refund.status.value == "pending"

    page = text(me.get(f"/orders/{order.id}"))
    assert "退款申请已提交" in page
    assert 'data-testid="order-status">退款处理中' in page
    assert 'data-testid="refund-note">退款 ¥50.00 处理中，将原路退回' in page
    assert 'data-testid="refund-status" data-status="pending"' in page and ">退款中<" in page
    assert 'data-testid="refunding-amount">¥50.00' in page and step_labels(page)[-1] == "退款处理中"
    assert "已退款" not in page  # nothing says the money is back yet
    assert f'data-poll-url="/orders/{order.id}/status"' in page and 'data-refunding="1"' in page
    assert me.get(f"/orders/{order.id}/status").json == {
        "id": order.id, "status": "refunded", "label": "退款处理中", "refunding": True}
    assert "Refund of ¥50.00 in progress" in text(me.get(f"/orders/{order.id}?lang=en"))
    me.get(f"/orders/{order.id}?lang=zh")

    run_queue(queue)  # the worker gets to the refund: the sandbox moves the money
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">已退款' in page and step_labels(page)[-1] == "已退款"
    assert 'data-testid="refund-status" data-status="succeeded"' in page and "退款成功" in page
    assert 'data-testid="refunded-amount">¥50.00' in page
    assert "退款处理中" not in page and "refund-note" not in page and "data-poll-url" not in page
    assert me.get(f"/orders/{order.id}/status").json["refunding"] is False


def test_a_partial_refund_in_progress_keeps_the_order_ready_and_a_refused_one_says_so(me, shop, queue):
    order = paid_order(me, shop, shop.medium, 2)
    line = order.lines[0]
    me.post(f"/orders/{order.id}/refund", data={"reason": "买错了/买多了", f"qty_{line.id}": 1})
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">待取货' in page and 'data-testid="voucher-qr"' in page
    assert 'data-testid="refund-note">退款 ¥25.00 处理中，将原路退回' in page

    refund = _db.session.execute(sa.select(Refund).where(Refund.order_id == order.id)).scalar_one()
    payments.apply_refund_result(refund.out_refund_no, "failed", detail="test")
    _db.session.commit()
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">待取货' in page and "refund-note" not in page
    assert 'data-testid="refund-failed-note">退款 ¥25.00 未成功，请联系门店' in page
    assert "退款失败，请联系门店" in page  # the record


def test_a_full_refund_the_provider_refused_is_not_called_refunded(me, shop, queue):
    order = paid_order(me, shop)
    me.post(f"/orders/{order.id}/refund", data={"reason": "不想要了"})
    refund = _db.session.execute(sa.select(Refund).where(Refund.order_id == order.id)).scalar_one()
    payments.apply_refund_result(refund.out_refund_no, "failed", detail="test")
    _db.session.commit()
    page = text(me.get(f"/orders/{order.id}"))
    assert 'data-testid="order-status">退款失败' in page and "请联系门店" in page
    assert "data-poll-url" not in page


def test_the_sandbox_page_speaks_english_too(me, shop):
    add(me, shop, shop.medium, 1)
    order_id = order_id_of(place(me))
    sandbox = me.get(f"/orders/{order_id}/pay").headers["Location"]
    page = text(me.get(sandbox, query_string={"lang": "en"}))
    assert "Confirm payment" in page and "Simulate a failed payment" in page and "Sandbox payment" in page
    assert "沙箱" not in page and "确认支付" not in page
    assert "确认支付" in text(me.get(sandbox, query_string={"lang": "zh"}))


def test_paying_at_the_store_reads_pay_on_delivery_for_a_delivery(me, shop):
    shop.store.delivery_radius_m = 3000
    _db.session.commit()
    add(me, shop, shop.medium, 1)
    page = text(me.get(f"/m/{SLUG}/checkout"))
    assert re.search(r'data-show-for="pickup"[^>]*>到店支付<', page.replace(' class="sp-hidden"', ""))
    assert re.search(r'class="sp-hidden"[^>]*>货到付款<|data-show-for="delivery" class="sp-hidden">货到付款<', page)
    page = text(me.post(f"/m/{SLUG}/checkout", data={"fulfilment": "delivery"}))  # refused (no address): kept
    assert re.search(r'data-show-for="delivery">货到付款<', page) and "送达时付款" in page
