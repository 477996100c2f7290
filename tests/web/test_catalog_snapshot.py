"""The shop's catalog snapshot: a change to the catalog shows on the very next page, a warm page reads only
one query (the merchant row, joined with the stock on a product page), and a rolled-back change never leaves a stale snapshot behind."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.catalog import snapshot
from app.catalog.models import Category, Product, ProductPhoto, Sku, catalog_changed
from app.extensions import db
from app.members.service import demo_member
from app.merchants.models import Merchant
from tests.web.test_catalog import add_product, add_review, element, latte, plain, set_stock, text  # noqa: F401


def product_page(client, product, store):
    return text(client.get(f"/m/test-coffee/p/{product.id}?store={store.id}"))


def rev_of(merchant) -> int:
    return db.session.execute(sa.select(Merchant.catalog_rev).where(Merchant.id == merchant.id)).scalar_one()


class SelectCounter:
    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            self.seen.append(statement)

    def __enter__(self):
        sa.event.listen(db.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        sa.event.remove(db.engine, "before_cursor_execute", self)


@pytest.mark.parametrize("change, before, after", [
    ("sku price", "¥28", "¥27"),
    ("product name", "拿铁", "燕麦拿铁"),
    ("store name", "国贸店", "国贸旗舰店"),
    ("merchant name", "测试咖啡", "测试咖啡馆"),
])
def test_a_catalog_change_shows_on_the_next_page(client, world, latte, change, before, after):
    first = product_page(client, latte, world.store)
    assert before in first and after not in first
    if change == "sku price":
        latte.skus[0].price_fen = 2700
    elif change == "product name":
        latte.name = "燕麦拿铁"
    elif change == "store name":
        world.store.name = "国贸旗舰店"
    else:
        world.merchant.name = "测试咖啡馆"
    db.session.commit()
    assert after in product_page(client, latte, world.store)


def test_changes_that_remove_things_show_at_once(client, world, latte):
    home = text(client.get("/m/test-coffee/"))
    assert f'data-product-id="{latte.id}"' in home and "三里屯店" in home
    world.store_b.active = False
    latte.skus[2].active = False
    db.session.commit()
    home = text(client.get("/m/test-coffee/"))
    assert "三里屯店" not in home
    assert f'data-sku-id="{latte.skus[2].id}"' not in product_page(client, latte, world.store)
    latte.active = False
    db.session.commit()
    assert client.get(f"/m/test-coffee/p/{latte.id}").status_code == 404
    assert f'data-product-id="{latte.id}"' not in text(client.get("/m/test-coffee/"))


def test_new_products_categories_and_reviews_show_at_once(client, world, latte):
    text(client.get("/m/test-coffee/"))
    assert "暂无评价" in product_page(client, latte, world.store)
    tea = Category(merchant_id=world.merchant.id, name="茶饮", sort=5)
    db.session.add(tea)
    db.session.flush()
    matcha = add_product(world.merchant, "抹茶拿铁", [("中杯", 3000, None)], category=tea)
    add_review(world.merchant, latte, world.store, 5, "好喝")
    db.session.commit()
    home = text(client.get("/m/test-coffee/"))
    assert f'data-product-id="{matcha.id}"' in home and f'data-category-id="{tea.id}"' in home
    assert element(product_page(client, latte, world.store), "rating") == "★ 5.0 · 1 条评价"


def test_every_catalog_write_replaces_the_rev_and_nothing_else_does(world, latte):
    rev = rev_of(world.merchant)
    latte.skus[1].member_price_fen = 2800
    db.session.commit()
    assert rev_of(world.merchant) != rev
    rev = rev_of(world.merchant)
    set_stock(world.store_b, latte.skus[1], 7)  # stock is read per request, not part of the snapshot
    db.session.commit()
    assert rev_of(world.merchant) == rev
    other = rev_of(world.other_merchant)
    latte.description = "新的描述"
    db.session.commit()
    assert rev_of(world.other_merchant) == other  # only the merchant whose catalog changed


def test_a_warm_page_is_one_query(client, world, latte):
    url = f"/m/test-coffee/p/{latte.id}?store={world.store.id}"  # read the ids before counting
    text(client.get(url))
    text(client.get("/m/test-coffee/"))
    with SelectCounter() as product_reads:
        text(client.get(url))
    with SelectCounter() as home_reads:
        text(client.get("/m/test-coffee/"))
    assert len(product_reads.seen) == 1, product_reads.seen  # the merchant row joined with the stock
    assert "merchants" in product_reads.seen[0] and "store_stock" in product_reads.seen[0]
    assert len(home_reads.seen) == 1 and "merchants" in home_reads.seen[0]


def test_stock_is_fresh_on_every_page(client, world, latte):
    mid = latte.skus[0]
    assert "仅剩 3 件" in plain(product_page(client, latte, world.store))
    db.session.execute(sa.text("UPDATE store_stock SET quantity = 1 WHERE store_id = :s AND sku_id = :k"),
                       {"s": world.store.id, "k": mid.id})
    db.session.commit()
    assert "仅剩 1 件" in plain(product_page(client, latte, world.store))


def test_a_rolled_back_change_leaves_no_stale_snapshot(app, world, latte):
    def price_now() -> int:
        with app.test_request_context():
            return snapshot.for_slug("test-coffee").catalog.product(latte.id).skus[0].price_fen

    assert price_now() == 2800
    savepoint = db.session.begin_nested()
    latte.skus[0].price_fen = 3000
    db.session.flush()
    assert price_now() == 3000  # built from the uncommitted change, at its (new, random) rev
    savepoint.rollback()
    assert price_now() == 2800  # the rev went back with the change, so the snapshot is rebuilt


def test_a_core_write_announces_itself_with_catalog_changed(client, world, latte):
    product_page(client, latte, world.store)
    db.session.execute(sa.update(Sku).where(Sku.id == latte.skus[0].id).values(price_fen=2600))
    catalog_changed([world.merchant.id])
    db.session.commit()
    assert element(product_page(client, latte, world.store), "price").startswith("¥26")


def test_search_is_literal_and_ignores_case(client, world, latte):
    add_product(world.merchant, "Flat White 100%", [("杯", 3000, None)], description="Double ristretto")
    db.session.commit()
    found = lambda q: re.findall(r'data-product-id="(\d+)"', text(client.get("/m/test-coffee/", query_string={"q": q})))
    assert found("flat white") and found("RISTRETTO") and found("100%")
    assert not found("1_0") and not found("%%")


def test_snapshots_are_bounded_per_process(app, world, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_MERCHANTS", 1)
    with app.test_request_context():
        coffee = snapshot.for_slug("test-coffee").catalog
        assert snapshot.for_slug("test-coffee").catalog is coffee  # reused while the rev holds
        snapshot.for_slug("other-bakery")
        assert list(snapshot._snapshots) == [world.other_merchant.id]
        assert snapshot.for_slug("test-coffee").catalog is not coffee  # evicted, built again
        assert snapshot.for_slug("no-such-shop") is None


def test_a_signed_in_members_page_is_one_query_too(app, client, world, latte):
    from tests.conftest import member_client

    member = demo_member(world.merchant.id, "小王")
    db.session.commit()
    shopper = member_client(app, member)
    url = f"/m/test-coffee/p/{latte.id}?store={world.store.id}"
    text(shopper.get(url))
    with SelectCounter() as reads:
        html = text(shopper.get(url))
    assert len(reads.seen) == 1 and "members" in reads.seen[0]
    assert element(html, "price").startswith("¥25")  # the member price: the query confirmed the member


def test_a_session_with_members_at_two_shops_gets_member_prices_at_each(app, world, latte):
    ours = demo_member(world.merchant.id, "小王")
    theirs = demo_member(world.other_merchant.id, "小王")
    bread = add_product(world.other_merchant, "法棍", [("根", 1200, 1000)])
    db.session.commit()
    shopper = app.test_client()
    with shopper.session_transaction() as s:
        s["members"] = {str(world.merchant.id): ours.id, str(world.other_merchant.id): theirs.id}
    assert element(text(shopper.get(f"/m/test-coffee/p/{latte.id}")), "price").startswith("¥25")
    assert element(text(shopper.get(f"/m/other-bakery/p/{bread.id}")), "price").startswith("¥10")
    with shopper.session_transaction() as s:  # only the other shop's member: list prices here
        s["members"] = {str(world.other_merchant.id): theirs.id}
    assert element(text(shopper.get(f"/m/test-coffee/p/{latte.id}")), "price").startswith("¥28")


def test_the_gallery_shows_the_cover_then_the_photos_in_order_and_follows_changes(client, world, latte):
    from app.catalog.models import ProductPhoto

    def photos() -> list[str]:
        html = product_page(client, latte, world.store)
        track = html.split('data-testid="photos"', 1)[1].split("</div>", 1)[0]
        return re.findall(r'src="/static/([^"?]+)\?v=[0-9a-f]+"', track)

    assert photos() == ["img/products/latte.png"]
    assert 'data-testid="photo-count"' not in product_page(client, latte, world.store)
    latte.photos = [ProductPhoto(position=2, image="img/products/mocha-top.png"),
                    ProductPhoto(position=1, image="img/products/latte-top.png")]
    db.session.commit()
    assert photos() == ["img/products/latte.png", "img/products/latte-top.png", "img/products/mocha-top.png"]
    assert element(product_page(client, latte, world.store), "photo-count") == "1 / 3"
    latte.photos = latte.photos[:1]  # a removed photo goes too (delete-orphan), and bumps the rev
    db.session.commit()
    assert photos() == ["img/products/latte.png", "img/products/latte-top.png"]


def test_kept_photos_and_reviews_follow_the_catalog_and_the_language(client, world, latte):
    """The product page's photos and reviews are rendered once per product, language and catalog rev
    (app.web.shop.catalog.static_parts): a new review or photo shows on the next page, in each language."""
    page = product_page(client, latte, world.store)
    assert "暂无评价" in page
    english = text(client.get(f"/m/test-coffee/p/{latte.id}?store={world.store.id}&lang=en"))
    assert "No reviews yet" in english and "暂无评价" not in english
    client.get(f"/m/test-coffee/p/{latte.id}?lang=zh")
    add_review(world.merchant, latte, world.store, 5, "奶泡很细腻，下次还来")
    latte.photos.append(ProductPhoto(position=1, image="img/products/latte-top.png"))
    db.session.commit()
    page = product_page(client, latte, world.store)
    assert "奶泡很细腻" in page and "暂无评价" not in page and "latte-top" in page
    english = text(client.get(f"/m/test-coffee/p/{latte.id}?store={world.store.id}&lang=en"))
    assert "奶泡很细腻" in english and "1 review" in english
