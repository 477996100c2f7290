"""Every gunicorn worker keeps its own catalog snapshot; a price change committed by another process shows
on the next page from every one of them."""
from __future__ import annotations

import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import Session

from app.catalog.models import Sku
from tests.support.live import console_session

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


def _shown(base: str, slug: str, product_id: int, store_id: int) -> set[tuple[str, str]]:
    """(price, cover photo URL) as each of PAGES product pages shows them."""
    url = f"{base}/m/{slug}/p/{product_id}?store={store_id}"

    def shown(_):
        r = requests.get(url, headers={"Connection": "close"}, timeout=30)
        assert r.status_code == 200, r.text[:300]
        price = re.search(r'data-testid="price"><span class="price">(¥[\d.]+)</span>', r.text).group(1)
        return price, re.search(r'<img class="pd-photo" src="([^"]+)"', r.text).group(1)

    with ThreadPoolExecutor(8) as pool:
        return set(pool.map(shown, range(PAGES)))


def test_a_console_edit_and_photo_reach_every_worker_on_the_next_page(server):
    """The owner edits a price and uploads a cover photo in the console (real sign-in, CSRF, multipart) on one
    worker; the next shop page from every worker shows both, and the photo is served."""
    base, demo, engine = server
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    with engine.connect() as c:
        product_id, sku_id, name, code, price, image = c.execute(sa.text(
            "SELECT p.id, s.id, s.name, s.code, s.price_fen, p.image FROM products p "
            "JOIN skus s ON s.product_id = p.id "
            "JOIN store_stock st ON st.sku_id = s.id AND st.store_id = :store AND st.quantity > 0 "
            "WHERE s.member_price_fen IS NULL ORDER BY s.id DESC LIMIT 1"), {"store": store_id}).one()
    before = _shown(base, slug, product_id, store_id)
    assert len(before) == 1 and next(iter(before))[1].startswith("/static/")  # every worker has its snapshot

    console = console_session(base)
    new_price = price + 250
    r = console.post(f"{base}/console/skus/{sku_id}", data={
        "csrf_token": console.csrf, "name": name, "code": code or "", "price": f"{new_price / 100:.2f}",
        "member_price": ""}, allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:500]
    photo = io.BytesIO()
    Image.new("RGB", (600, 600), (30, 120, 200)).save(photo, "JPEG")
    r = console.post(f"{base}/console/products/{product_id}/cover", data={"csrf_token": console.csrf},
                     files={"photo": ("cover.jpg", photo.getvalue(), "image/jpeg")}, allow_redirects=False,
                     timeout=30)
    assert r.status_code == 302, r.text[:500]
    try:
        shown = _shown(base, slug, product_id, store_id)
        after = f"¥{new_price // 100}" + (f".{new_price % 100:02d}".rstrip("0") if new_price % 100 else "")
        assert len(shown) == 1, shown
        shown_price, cover = next(iter(shown))
        assert shown_price == after and cover.startswith("/media/products/")
        served = requests.get(base + cover, timeout=30)
        assert served.status_code == 200 and Image.open(io.BytesIO(served.content)).size == (480, 480)
    finally:
        with Session(engine) as session:
            sku = session.get(Sku, sku_id)
            sku.price_fen = price
            sku.product.image = image
            session.commit()
