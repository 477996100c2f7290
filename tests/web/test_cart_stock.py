"""The cart refuses more than the store has on hand (exceeds_stock), counting what it already holds, and
stays as it was; the stock is only a hint then, so checkout still reserves it atomically (out_of_stock)."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from app.catalog.models import Product, Sku, StoreStock
from app.extensions import db as _db
from app.members.service import demo_member
from app.orders.models import Order
from tests.conftest import member_client

SLUG = "test-coffee"
JSON = {"Accept": "application/json"}


@pytest.fixture
def shop(db, world):
    m = world.merchant
    latte = Product(merchant_id=m.id, name="拿铁", image="img/products/latte.png")
    latte.skus = [Sku(name="中杯", price_fen=2800), Sku(name="大杯", price_fen=3200), Sku(name="小杯", price_fen=2400)]
    db.session.add(latte)
    db.session.flush()
    medium, large, small = latte.skus
    db.session.add_all([
        StoreStock(store_id=world.store.id, sku_id=medium.id, quantity=5),
        StoreStock(store_id=world.store.id, sku_id=large.id, quantity=0),  # sold out; 小杯 has no row at all
        StoreStock(store_id=world.store_b.id, sku_id=medium.id, quantity=2),
    ])
    member = demo_member(m.id, "小明")
    db.session.commit()
    return SimpleNamespace(store=world.store, store_b=world.store_b, medium=medium, large=large, small=small,
                           member=member)


@pytest.fixture
def me(app, shop):
    return member_client(app, shop.member)


def add(c, shop, sku, quantity=1, store=None, headers=None, **extra):
    return c.post(f"/m/{SLUG}/cart/add", headers=headers,
                  data={"store_id": (store or shop.store).id, "sku_id": sku.id, "quantity": quantity, **extra})


def update(c, sku, quantity, headers=None):
    return c.post(f"/m/{SLUG}/cart/update", data={"sku_id": sku.id, "quantity": quantity}, headers=headers)


def text(r) -> str:
    return r.get_data(as_text=True)


def lines(c) -> dict[int, int]:
    """sku id -> quantity, as the cart page shows them."""
    page = text(c.get(f"/m/{SLUG}/cart"))
    return {int(s): int(q) for s, q in re.findall(r'data-sku-id="(\d+)"\s+data-quantity="(\d+)"', page)}


def cart_store(c) -> int | None:
    m = re.search(r'data-testid="cart-store" data-store-id="(\d+)"', text(c.get(f"/m/{SLUG}/cart")))
    return int(m.group(1)) if m else None


def set_stock(store, sku, quantity):
    _db.session.execute(sa.update(StoreStock).where(StoreStock.store_id == store.id, StoreStock.sku_id == sku.id)
                        .values(quantity=quantity))
    _db.session.commit()


def stock(store, sku) -> int:
    return _db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store.id, StoreStock.sku_id == sku.id)).scalar_one()


# ---------------------------------------------------------------------------------------------- adding

def test_adding_past_the_stock_is_refused_and_the_cart_is_kept(me, shop):
    assert add(me, shop, shop.medium, 5).status_code == 302
    r = add(me, shop, shop.medium, 3)
    page = text(r)
    assert r.status_code == 409 and 'data-testid="cart-error" data-code="exceeds_stock"' in page
    assert "拿铁（中杯）：本店仅剩 5 件，购物车里已有 5 件。" in page
    assert 'data-quantity="5"' in page  # the refusal shows the cart as it is
    assert lines(me) == {shop.medium.id: 5}
    assert add(me, shop, shop.medium, 1).status_code == 409  # not one more
    assert lines(me) == {shop.medium.id: 5}


def test_adding_up_to_the_stock_in_steps_is_fine(me, shop):
    assert add(me, shop, shop.medium, 2).status_code == 302
    assert add(me, shop, shop.medium, 3).status_code == 302
    assert lines(me) == {shop.medium.id: 5}


def test_more_than_on_hand_into_an_empty_cart_and_buy_now_are_refused(me, shop):
    r = add(me, shop, shop.medium, 6)
    assert r.status_code == 409 and "拿铁（中杯）：本店仅剩 5 件。" in text(r) and "购物车里已有" not in text(r)
    r = add(me, shop, shop.medium, 6, buy_now="1")
    assert r.status_code == 409 and 'data-code="exceeds_stock"' in text(r)
    assert lines(me) == {}


@pytest.mark.parametrize("which", ["large", "small"])  # a zero row, and no row at all
def test_a_sold_out_item_cannot_be_added(me, shop, which):
    r = add(me, shop, getattr(shop, which), 1)
    assert r.status_code == 409 and 'data-code="exceeds_stock"' in text(r) and "本店已售罄" in text(r)
    assert lines(me) == {}


def test_json_callers_get_the_error_envelope_in_either_language(me, shop):
    add(me, shop, shop.medium, 4)
    r = add(me, shop, shop.medium, 2, headers=JSON)
    assert r.status_code == 409 and r.is_json
    error = r.json["error"]
    assert error["code"] == "exceeds_stock" and error["message"] == "拿铁（中杯）：本店仅剩 5 件，购物车里已有 4 件。"
    assert (error["available"], error["in_cart"], error["sku_id"], error["store_id"]) == (5, 4, shop.medium.id,
                                                                                        shop.store.id)
    assert error["product"] == "拿铁（中杯）"
    r = me.post(f"/m/{SLUG}/cart/add?lang=en", headers=JSON,
                data={"store_id": shop.store.id, "sku_id": shop.large.id, "quantity": 1})
    assert r.status_code == 409 and r.json["error"]["message"] == "拿铁（大杯） is sold out at this store."
    r = update(me, shop.medium, 6, headers=JSON)
    assert r.status_code == 409 and r.json["error"]["in_cart"] == 4
    assert lines(me) == {shop.medium.id: 4}


def test_adding_from_another_store_checks_that_store_before_asking_to_switch(me, shop):
    add(me, shop, shop.medium, 5)
    r = add(me, shop, shop.medium, 3, store=shop.store_b)  # two at the other store; the 5 here do not count
    page = text(r)
    assert r.status_code == 409 and f"拿铁（中杯）：「{shop.store_b.name}」仅剩 2 件。" in page
    assert 'data-testid="cart-switch"' not in page  # nothing to switch for
    assert cart_store(me) == shop.store.id and lines(me) == {shop.medium.id: 5}
    r = add(me, shop, shop.medium, 2, store=shop.store_b)
    assert r.status_code == 200 and 'data-testid="cart-switch"' in text(r)  # within stock: asks first
    assert add(me, shop, shop.medium, 2, store=shop.store_b, replace="1").status_code == 302
    assert cart_store(me) == shop.store_b.id and lines(me) == {shop.medium.id: 2}


# ---------------------------------------------------------------------------------------------- updating

def test_raising_a_line_past_the_stock_is_refused_and_plus_is_off_at_the_limit(me, shop):
    add(me, shop, shop.medium, 3)
    assert update(me, shop.medium, 5).status_code == 302
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert re.search(r'data-testid="qty-plus"\s+disabled', page)  # five of five
    assert 'data-testid="stock-limit">本店仅剩 5 件' in page and "stock-warning" not in page
    r = update(me, shop.medium, 6)
    assert r.status_code == 409 and "本店仅剩 5 件，购物车里已有 5 件" in text(r)
    assert lines(me) == {shop.medium.id: 5}
    assert update(me, shop.medium, 4).status_code == 302
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert not re.search(r'data-testid="qty-plus"\s+disabled', page) and "stock-limit" not in page


def test_coming_down_is_always_allowed_when_stock_sold_since(me, shop):
    add(me, shop, shop.medium, 5)
    set_stock(shop.store, shop.medium, 2)  # sold at the counter meanwhile
    page = text(me.get(f"/m/{SLUG}/cart"))
    assert 'data-testid="stock-warning">本店仅剩 2 件' in page
    assert update(me, shop.medium, 4).status_code == 302  # "−" still works, though 4 > 2
    assert lines(me) == {shop.medium.id: 4}
    assert update(me, shop.medium, 5).status_code == 409  # back up: refused
    assert update(me, shop.medium, 0).status_code == 302  # removing always works
    assert lines(me) == {}


def test_checkout_still_reserves_atomically_when_the_stock_went_since(me, shop):
    add(me, shop, shop.medium, 3)
    set_stock(shop.store, shop.medium, 1)
    r = me.post(f"/m/{SLUG}/checkout", data={"pickup_at": "asap", "pay": "online"})
    assert r.status_code == 409 and 'data-code="out_of_stock"' in text(r) and "仅剩 1 件" in text(r)
    assert stock(shop.store, shop.medium) == 1
    assert _db.session.execute(sa.select(sa.func.count(Order.id))).scalar() == 0
    assert lines(me) == {shop.medium.id: 3}  # the cart is kept to fix
