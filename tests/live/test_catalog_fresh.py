"""Every gunicorn worker keeps its own catalog snapshot; a price change committed by another process shows
on the next page from every one of them."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.catalog.models import Sku

pytestmark = pytest.mark.live

PAGES = 24  # 4 workers: every one of them answers several


def _prices(base: str, slug: str, product_id: int, store_id: int) -> set[str]:
    url = f"{base}/m/{slug}/p/{product_id}?store={store_id}"

    def price(_):
        # A new connection each time, so that the requests spread over the workers.
        r = requests.get(url, headers={"Connection": "close"}, timeout=30)
        assert r.status_code == 200, r.text[:300]
        return re.search(r'data-testid="price"><span class="price">(¥[\d.]+)</span>', r.text).group(1)

    with ThreadPoolExecutor(8) as pool:
        return set(pool.map(price, range(PAGES)))


def test_a_price_change_reaches_every_worker_on_the_next_page(server):
    base, demo, engine = server
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    with engine.connect() as c:
        product_id, sku_id, price = c.execute(sa.text(
            "SELECT p.id, s.id, s.price_fen FROM products p JOIN skus s ON s.product_id = p.id "
            "JOIN store_stock st ON st.sku_id = s.id AND st.store_id = :store AND st.quantity > 0 "
            "WHERE s.member_price_fen IS NULL ORDER BY s.id LIMIT 1"), {"store": store_id}).one()
    before = f"¥{price // 100}" + (f".{price % 100:02d}".rstrip("0") if price % 100 else "")
    assert _prices(base, slug, product_id, store_id) == {before}  # every worker has built its snapshot

    new_price = price + 100
    with Session(engine) as session:  # the ORM, as a merchant's edit would go
        session.get(Sku, sku_id).price_fen = new_price
        session.commit()
    after = f"¥{new_price // 100}" + (f".{new_price % 100:02d}".rstrip("0") if new_price % 100 else "")
    try:
        assert _prices(base, slug, product_id, store_id) == {after}
    finally:
        with Session(engine) as session:
            session.get(Sku, sku_id).price_fen = price
            session.commit()
    assert _prices(base, slug, product_id, store_id) == {before}
