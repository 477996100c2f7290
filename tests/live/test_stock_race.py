"""20 shoppers check out the last 5 items at once, through the real pages on gunicorn with 4 workers:
exactly 5 orders, stock 0, never below."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from tests.support.live import first_pickup_time, shop_session

pytestmark = pytest.mark.live

SHOPPERS = 20
LAST_ITEMS = 5


def _shopper(base: str, slug: str, i: int, store_id: int, sku_id: int) -> requests.Session:
    s = shop_session()
    r = s.post(f"{base}/m/{slug}/signin/demo", data={"nickname": f"抢购{i}", "next": f"/m/{slug}/"}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    r = s.post(f"{base}/m/{slug}/cart/add", data={"store_id": store_id, "sku_id": sku_id, "quantity": 1},
               timeout=30)
    assert r.status_code == 200, r.text[:300]
    return s


def test_twenty_checkouts_for_the_last_five_items(server):
    base, demo, engine = server
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    with engine.begin() as c:
        sku_id = c.execute(sa.text("SELECT min(id) FROM skus")).scalar()
        c.execute(sa.text("UPDATE store_stock SET quantity = :n WHERE store_id = :s AND sku_id = :k"),
                  {"n": LAST_ITEMS, "s": store_id, "k": sku_id})
        orders_before = c.execute(sa.text("SELECT count(*) FROM order_lines WHERE sku_id = :k"), {"k": sku_id}).scalar()
    shoppers = [_shopper(base, slug, i, store_id, sku_id) for i in range(SHOPPERS)]
    forms = []
    for s in shoppers:
        page = s.get(f"{base}/m/{slug}/checkout", timeout=30)
        assert page.status_code == 200, page.text[:300]
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
        forms.append({"nonce": nonce, "fulfilment": "pickup", "pickup_at": first_pickup_time(page.text), "pay": "store"})
    barrier = threading.Barrier(SHOPPERS)

    def checkout(i):
        barrier.wait()
        return shoppers[i].post(f"{base}/m/{slug}/checkout", data=forms[i], allow_redirects=False, timeout=60)

    with ThreadPoolExecutor(max_workers=SHOPPERS) as pool:
        answers = list(pool.map(checkout, range(SHOPPERS)))
    placed = [a for a in answers if a.status_code in (302, 303)]
    refused = [a for a in answers if a.status_code == 409]
    assert len(placed) == LAST_ITEMS, [a.status_code for a in answers]
    assert len(refused) == SHOPPERS - LAST_ITEMS
    assert all("库存不足" in a.text for a in refused)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT quantity FROM store_stock WHERE store_id = :s AND sku_id = :k"),
                         {"s": store_id, "k": sku_id}).scalar() == 0
        assert c.execute(sa.text("SELECT count(*) FROM order_lines WHERE sku_id = :k"),
                         {"k": sku_id}).scalar() - orders_before == LAST_ITEMS
