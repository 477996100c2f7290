"""The shopper's voucher page leads with what they bought (issue #9 point 11): the product names, with the
store and the order number below; the counter and the API keep the voucher's title."""
from __future__ import annotations

import re

from app.extensions import db as _db
from app.orders.models import Order
from app.vouchers.models import Voucher
from tests.vouchers.helpers import bearer
from tests.web.test_orders_pages import SLUG, add, me, order_id_of, place, shop, text  # noqa: F401  (fixtures)


def test_an_order_voucher_is_headed_by_its_products_with_store_and_order_below(client, me, shop, world):
    add(me, shop, shop.medium, 2)
    add(me, shop, shop.plain, 1)
    order_id = order_id_of(place(me, pay="store"))
    voucher = _db.session.get(Voucher, _db.session.get(Order, order_id).voucher_id)
    products = "拿铁（中杯）×2、贝果（原味）×1"
    holder = re.search(r'href="(/w/[^"]+)"', text(me.get(f"/orders/{order_id}"))).group(1)
    page = text(me.get(holder))
    assert f'data-testid="voucher-title">{products}<' in page
    assert re.search(r"<title>\s*" + re.escape(products) + " · ", page)
    below = re.search(r'data-testid="voucher-subtitle">([^<]+)<', page).group(1)
    assert shop.store.name in below and voucher.title.split("订单 ")[1] in below
    assert "凭券兑换" not in page  # the products are the heading, not repeated
    me_page = text(me.get(f"/m/{SLUG}/me"))
    assert products in me_page

    # The counter still reads the store and the order number as the title, and the goods as the hand-over.
    r = client.post("/api/v1/counter/verify", json={"code": voucher.code}, headers=bearer(world.counter_key))
    assert r.json["voucher"]["title"] == voucher.title and r.json["voucher"]["handover"] == products
