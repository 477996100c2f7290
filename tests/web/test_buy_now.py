"""立即购买 checks out that item alone (issue #9 point 6): the cart is the same before and after, a repeated
立即购买 does not raise a quantity, and the stock and double-submit checks of checkout still apply."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db as _db
from app.orders.models import Order
from tests.web.test_orders_pages import (  # noqa: F401  (fixtures)
    SLUG, _client, add, me, order_id_of, place, set_stock, shop, stock, text,
)


def cart_lines(c) -> dict[int, int]:
    page = text(c.get(f"/m/{SLUG}/cart"))
    return {int(s): int(q) for s, q in re.findall(r'data-sku-id="(\d+)"\s+data-quantity="(\d+)"', page)}


def buy_now(c, shop, sku, quantity=1, store=None):
    return add(c, shop, sku, quantity, store=store, buy_now="1")


def checkout_url(r) -> str:
    assert r.status_code == 302, text(r)
    location = r.headers["Location"]
    assert location.startswith(f"/m/{SLUG}/checkout?buy="), location
    return location


def test_buy_now_checks_out_that_item_alone_and_leaves_the_cart_as_it_was(me, shop):
    add(me, shop, shop.plain, 2)
    url = checkout_url(buy_now(me, shop, shop.medium, 1))
    assert cart_lines(me) == {shop.plain.id: 2}  # nothing added to the cart
    page = text(me.get(url))
    assert "拿铁" in page and "贝果" not in page and 'data-testid="checkout-total">¥25.00' in page
    assert re.search(r'name="buy" value="[^"]+"', page)
    r = me.post(url, data={"pickup_at": "asap", "pay": "online"})
    order = _db.session.get(Order, order_id_of(r))
    assert [(l.sku_id, l.quantity) for l in order.lines] == [(shop.medium.id, 1)]
    assert stock(shop.store, shop.medium) == 9 and stock(shop.store, shop.plain) == 5
    assert cart_lines(me) == {shop.plain.id: 2}  # still there after placing
    # The same buy-now is used up: opening it again goes back to the cart rather than ordering twice.
    assert me.get(url).headers["Location"] == f"/m/{SLUG}/cart"


def test_repeating_buy_now_does_not_raise_the_quantity(me, shop):
    checkout_url(buy_now(me, shop, shop.medium, 1))
    url = checkout_url(buy_now(me, shop, shop.medium, 1))
    page = text(me.get(url))
    assert "× 1" in page and "× 2" not in page and 'data-testid="checkout-total">¥25.00' in page
    assert cart_lines(me) == {}


def test_buy_now_from_another_store_neither_asks_nor_empties_the_cart(me, shop):
    add(me, shop, shop.plain, 1)
    url = checkout_url(buy_now(me, shop, shop.medium, 2, store=shop.store_b))
    page = text(me.get(url))
    assert f'data-store-id="{shop.store_b.id}"' in page and 'data-testid="checkout-total">¥50.00' in page
    r = me.post(url, data={"pickup_at": "asap", "pay": "store"})
    order = _db.session.get(Order, order_id_of(r))
    assert order.store_id == shop.store_b.id and stock(shop.store_b, shop.medium) == 1
    assert cart_lines(me) == {shop.plain.id: 1}


def test_buy_now_checks_the_stock_and_checkout_still_reserves_atomically(me, shop):
    add(me, shop, shop.medium, 8)  # what is in the cart does not count against a buy-now
    r = buy_now(me, shop, shop.medium, 11)
    assert r.status_code == 409 and 'data-code="exceeds_stock"' in text(r)
    url = checkout_url(buy_now(me, shop, shop.medium, 3))
    set_stock(shop.store, shop.medium, 2)  # sold elsewhere meanwhile
    r = me.post(url, data={"pickup_at": "asap", "pay": "online"})
    assert r.status_code == 409 and 'data-code="out_of_stock"' in text(r)
    assert cart_lines(me) == {shop.medium.id: 8}
    assert _db.session.execute(sa.select(sa.func.count(Order.id))).scalar() == 0


def test_a_double_submitted_buy_now_places_one_order(me, shop):
    url = checkout_url(buy_now(me, shop, shop.medium, 1))
    nonce = re.search(r'name="nonce" value="([^"]+)"', text(me.get(url))).group(1)
    form = {"pickup_at": "asap", "pay": "online", "nonce": nonce}
    first, second = me.post(url, data=form), me.post(url, data=form)
    assert first.headers["Location"] == second.headers["Location"]
    assert _db.session.execute(sa.select(sa.func.count(Order.id))).scalar() == 1


def test_a_guest_signs_in_and_comes_back_to_the_same_buy_now(app, shop):
    guest = _client(app)
    url = checkout_url(buy_now(guest, shop, shop.medium, 2))
    r = guest.get(url)
    assert r.status_code == 302 and "/signin" in r.headers["Location"]
    r = guest.post(f"/m/{SLUG}/signin/demo", data={"nickname": "小明", "next": url})
    assert r.headers["Location"] == url
    assert 'data-testid="checkout-total">¥50.00' in text(guest.get(url))
