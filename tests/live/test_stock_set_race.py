"""The console's stock edits and shoppers' checkouts at the same instant, through the real pages on gunicorn
with 4 workers: each edit ("saw 50, typed 52": two more) and each order (one fewer) counts exactly once, so
the stock ends where it started. A set that wrote the typed number would lose the orders placed before it."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from tests.support.live import first_pickup_time, shop_session

pytestmark = pytest.mark.live

START, SHOPPERS, EDITS = 50, 10, 5


def _console(base: str) -> tuple[requests.Session, str]:
    s = shop_session()
    page = s.get(f"{base}/console/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(f"{base}/console/login", data={"csrf_token": token, "username": "owner", "password": "demo1234"},
               timeout=30)
    assert r.status_code == 200 and "/console/login" not in r.url, r.text[:300]
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(f"{base}/console/stock", timeout=30).text).group(1)
    return s, token


def test_edits_over_what_was_seen_and_orders_all_count(server):
    base, demo, engine = server
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    with engine.begin() as c:
        sku_id = c.execute(sa.text("SELECT max(id) FROM skus")).scalar()
        c.execute(sa.text("UPDATE store_stock SET quantity = :n WHERE store_id = :s AND sku_id = :k"),
                  {"n": START, "s": store_id, "k": sku_id})
    shoppers, forms = [], []
    for i in range(SHOPPERS):
        s = shop_session()
        s.post(f"{base}/m/{slug}/signin/demo", data={"nickname": f"并发{i}", "next": f"/m/{slug}/"}, timeout=30)
        r = s.post(f"{base}/m/{slug}/cart/add", data={"store_id": store_id, "sku_id": sku_id, "quantity": 1}, timeout=30)
        assert r.status_code == 200, r.text[:300]
        page = s.get(f"{base}/m/{slug}/checkout", timeout=30)
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text).group(1)
        shoppers.append(s)
        forms.append({"nonce": nonce, "fulfilment": "pickup", "pickup_at": first_pickup_time(page.text), "pay": "store"})
    console, token = _console(base)
    barrier = threading.Barrier(SHOPPERS + EDITS)

    def act(i):
        barrier.wait()
        if i < SHOPPERS:
            return shoppers[i].post(f"{base}/m/{slug}/checkout", data=forms[i], allow_redirects=False, timeout=60)
        return console.post(f"{base}/console/stock/{store_id}/{sku_id}", headers={"HX-Request": "true"},
                            data={"csrf_token": token, "seen": START, "quantity": START + 2}, timeout=60)

    with ThreadPoolExecutor(max_workers=SHOPPERS + EDITS) as pool:
        answers = list(pool.map(act, range(SHOPPERS + EDITS)))
    assert all(a.status_code in (302, 303) for a in answers[:SHOPPERS]), [a.status_code for a in answers]
    assert all(a.status_code == 200 and 'data-testid="stock-error"' not in a.text for a in answers[SHOPPERS:])
    with engine.connect() as c:
        final = c.execute(sa.text("SELECT quantity FROM store_stock WHERE store_id = :s AND sku_id = :k"),
                          {"s": store_id, "k": sku_id}).scalar()
        audited = c.execute(sa.text("SELECT count(*) FROM audit_events WHERE action = 'stock.set' AND object_id = :k"),
                            {"k": sku_id}).scalar()
    assert final == START + 2 * EDITS - SHOPPERS
    assert audited == EDITS
