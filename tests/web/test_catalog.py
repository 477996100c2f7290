"""Catalog pages of the shop: home (stores by distance, search, categories), product page (prices, member
price, stock per store, reviews), the shelf QR, the store page, merchant scoping, and gzip."""
from __future__ import annotations

import gzip
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.catalog.models import Category, Product, Review, Sku, StoreStock
from app.core.clock import now_utc
from app.extensions import db
from app.members.service import demo_member
from app.orders.models import Fulfilment, Order, OrderStatus
from app.payments.models import PayMethod
from app.vouchers import qr
from tests.support.factories import set_hours

STATIC = Path(__file__).resolve().parents[2] / "static"


# --- helpers ------------------------------------------------------------------------------------------

def add_product(merchant, name, skus, *, category=None, description="", featured=False, active=True,
                image="img/products/latte.png") -> Product:
    p = Product(merchant_id=merchant.id, name=name, description=description, image=image, featured=featured,
                active=active, category_id=category.id if category else None)
    p.skus = [Sku(name=n, price_fen=price, member_price_fen=member) for n, price, member in skus]
    db.session.add(p)
    db.session.flush()
    return p


def set_stock(store, sku, quantity):
    db.session.add(StoreStock(store_id=store.id, sku_id=sku.id, quantity=quantity))
    db.session.flush()


def add_review(merchant, product, store, rating, body, *, days_ago=0, n=[0]):
    n[0] += 1
    member = demo_member(merchant.id, f"评价人{n[0]}")
    order = Order(number=f"T{n[0]:08d}", merchant_id=merchant.id, store_id=store.id, member_id=member.id,
                  status=OrderStatus.COMPLETED, fulfilment=Fulfilment.PICKUP, pay_method=PayMethod.SANDBOX,
                  total_fen=100, list_total_fen=100)
    db.session.add(order)
    db.session.flush()
    db.session.add(Review(merchant_id=merchant.id, product_id=product.id, member_id=member.id, order_id=order.id,
                          rating=rating, body=body, created_at=now_utc() - timedelta(days=days_ago)))
    db.session.flush()


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def plain(html: str) -> str:
    """Visible text, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def product_ids(html: str, container: str = "products") -> list[int]:
    block = html.split(f'id="{container}"', 1)[1]
    return [int(i) for i in re.findall(r'data-product-id="(\d+)"', block)]


def outer(html: str, marker: str) -> str:
    """The whole element whose start tag contains `marker` (nested elements of the same name included)."""
    start = re.search(rf"<(\w+)[^>]*{re.escape(marker)}[^>]*>", html)
    assert start, f"no element with {marker}"
    name, depth, pos = start.group(1), 1, start.end()
    for tag in re.finditer(rf"<(/?){name}\b[^>]*>", html[pos:]):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return html[start.start():pos + tag.end()]
    raise AssertionError(f"unclosed element with {marker}")


def element(html: str, testid: str) -> str:
    return plain(outer(html, f'data-testid="{testid}"')).strip()


def sku_label(html: str, sku_id: int) -> str:
    m = re.search(rf'<label[^>]*data-sku-id="{sku_id}".*?</label>', html, re.S)
    assert m, f"no SKU {sku_id}"
    return m.group(0)


@pytest.fixture
def latte(world):
    m = world.merchant
    coffee = Category(merchant_id=m.id, name="咖啡", sort=0)
    db.session.add(coffee)
    db.session.flush()
    p = add_product(m, "拿铁", [("中杯", 2800, 2500), ("大杯", 3200, 2900), ("超大杯", 3600, None)],
                    category=coffee, description="意式浓缩与蒸汽牛奶", featured=True)
    mid, big, huge = p.skus
    set_stock(world.store, mid, 3)
    set_stock(world.store, big, 0)
    set_stock(world.store, huge, 20)
    # nothing at store_b (no rows at all for two SKUs, a zero row for one)
    set_stock(world.store_b, mid, 0)
    db.session.commit()
    return p


# --- home ---------------------------------------------------------------------------------------------

def test_home_lists_stores_in_id_order_without_location(client, world):
    html = text(client.get("/m/test-coffee/"))
    assert html.index("国贸店") < html.index("三里屯店")
    assert 'data-testid="distance"' not in html
    assert "望京店" not in html


def test_home_sorts_stores_by_distance_when_located(client, world):
    # North of both stores: 三里屯店 (39.9334) is about 1.8 km away, 国贸店 (39.9087) about 4.6 km.
    r = client.get("/m/test-coffee/?lat=39.95&lng=116.455")
    html = text(r)
    stores = html.split('id="stores"', 1)[1]
    assert stores.index("三里屯店") < stores.index("国贸店")
    assert re.findall(r'data-testid="distance">([^<]+)<', html) == ["1.8 km", "4.6 km"]
    assert "geo=39.950:116.455" in r.headers.get("Set-Cookie", "")
    # The position is remembered briefly, so the next visit without ?lat= is still sorted.
    again = text(client.get("/m/test-coffee/"))
    assert again.split('id="stores"', 1)[1].index("三里屯店") < again.split('id="stores"', 1)[1].index("国贸店")


def test_home_ignores_nonsense_coordinates(client, world):
    html = text(client.get("/m/test-coffee/?lat=999&lng=abc"))
    assert 'data-testid="distance"' not in html


def test_search_matches_name_or_description_case_insensitively(client, world):
    m = world.merchant
    macchiato = add_product(m, "Latte Macchiato", [("中杯", 3000, None)])
    croissant = add_product(m, "可颂", [("个", 1800, 1600)], description="法国黄油，每日现烤")
    americano = add_product(m, "美式", [("中杯", 2200, None)])
    pct = add_product(m, "100% 橙汁", [("瓶", 1500, None)])
    db.session.commit()

    assert product_ids(text(client.get("/m/test-coffee/?q=latte"))) == [macchiato.id]
    assert product_ids(text(client.get("/m/test-coffee/?q=LATTE mac"))) == [macchiato.id]
    assert product_ids(text(client.get("/m/test-coffee/?q=黄油"))) == [croissant.id]
    # % is a literal character, not a wildcard
    assert product_ids(text(client.get("/m/test-coffee/?q=%25"))) == [pct.id]
    none = text(client.get("/m/test-coffee/?q=茶"))
    assert 'data-product-id' not in none and "没有找到相关商品" in none
    everything = product_ids(text(client.get("/m/test-coffee/")))
    assert set(everything) == {macchiato.id, croissant.id, americano.id, pct.id}


def test_category_chips_filter_products(client, world):
    m = world.merchant
    coffee = Category(merchant_id=m.id, name="咖啡", sort=0)
    bakery = Category(merchant_id=m.id, name="烘焙", sort=1)
    foreign = Category(merchant_id=world.other_merchant.id, name="面包", sort=0)
    db.session.add_all([coffee, bakery, foreign])
    db.session.flush()
    latte = add_product(m, "拿铁", [("中杯", 2800, 2500)], category=coffee)
    croissant = add_product(m, "可颂", [("个", 1800, None)], category=bakery)
    add_product(world.other_merchant, "法棍", [("根", 1200, None)], category=foreign)
    db.session.commit()

    home = text(client.get("/m/test-coffee/"))
    assert f'data-category-id="{coffee.id}"' in home and f'data-category-id="{bakery.id}"' in home
    assert "面包" not in home
    assert product_ids(text(client.get(f"/m/test-coffee/?c={bakery.id}"))) == [croissant.id]
    assert product_ids(text(client.get(f"/m/test-coffee/?c={coffee.id}&q=拿"))) == [latte.id]
    # another merchant's category is ignored rather than leaking its products
    assert set(product_ids(text(client.get(f"/m/test-coffee/?c={foreign.id}")))) == {latte.id, croissant.id}


def test_home_cards_show_price_member_price_and_lazy_images(client, world, latte):
    html = text(client.get("/m/test-coffee/"))
    card = outer(html.split('id="products"', 1)[1], f'data-product-id="{latte.id}"')
    assert "¥28" in card and "会员价 ¥25" in card
    img = re.search(r"<img[^>]*>", card).group(0)
    assert 'loading="lazy"' in img and 'width="240"' in img and 'height="240"' in img


def test_home_needs_few_queries_whatever_the_number_of_products(app, client, world):
    def count_selects(n_products: int) -> int:
        for i in range(n_products):
            add_product(world.merchant, f"商品{i}", [("标准", 1000, 900), ("大份", 1500, None)])
        db.session.commit()
        seen = []

        def listener(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            text(client.get("/m/test-coffee/"))
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = count_selects(2)
    many = count_selects(10)
    assert many == few  # no query per product (SKUs come in one SELECT ... IN)


# --- product ------------------------------------------------------------------------------------------

def test_product_page_shows_skus_prices_and_stock_at_the_chosen_store(client, world, latte):
    mid, big, huge = latte.skus
    html = text(client.get(f"/m/test-coffee/p/{latte.id}?store={world.store.id}"))
    assert "拿铁" in html and "意式浓缩与蒸汽牛奶" in html
    assert element(html, "price").startswith("¥28") and "会员价 ¥25" in element(html, "price")

    mid_label, big_label, huge_label = (sku_label(html, s.id) for s in (mid, big, huge))
    assert "中杯" in mid_label and "¥28" in mid_label and "会员价 ¥25" in mid_label
    assert "仅剩 3 件" in plain(mid_label)
    assert "¥32" in big_label and "会员价 ¥29" in big_label and "已售罄" in big_label
    assert re.search(r'name="sku_id"[^>]*disabled', big_label)
    assert "¥36" in huge_label and "会员价" not in huge_label and "有货" in huge_label
    assert re.search(r'name="sku_id"[^>]*checked', mid_label)  # first SKU in stock is preselected

    form = re.search(r'<form class="pd-buy" method="post" action="([^"]+)".*?</form>', html, re.S)
    assert form.group(1) == "/m/test-coffee/cart/add"
    assert f'name="store_id" value="{world.store.id}"' in form.group(0)
    assert 'name="quantity"' in form.group(0) and 'name="buy_now" value="1"' in form.group(0)
    assert not re.search(r'data-testid="add"[^>]*disabled', html)
    assert f'src="/m/test-coffee/p/{latte.id}/qr.png?store={world.store.id}"' not in html  # linked, not embedded
    assert f'href="/m/test-coffee/p/{latte.id}/qr.png?store={world.store.id}"' in html


def test_product_sold_out_at_a_store_disables_buying(client, world, latte):
    html = text(client.get(f"/m/test-coffee/p/{latte.id}?store={world.store_b.id}"))
    assert plain(html).count("已售罄") >= 3
    assert re.search(r'data-testid="add"[^>]*disabled', html)
    assert re.search(r'data-testid="buy-now"[^>]*disabled', html)
    assert "本店已售罄" in html
    assert "仅剩" not in html and "有货" not in html
    # the store selector says where it is in stock
    assert re.search(rf'<option value="{world.store_b.id}" selected>三里屯店（已售罄）</option>', html)
    assert re.search(rf'<option value="{world.store.id}">国贸店</option>', html)


def test_store_choice_comes_from_query_then_cookie_then_first_store(client, world, latte):
    first = text(client.get(f"/m/test-coffee/p/{latte.id}"))
    assert f'name="store_id" value="{world.store.id}"' in first

    r = client.get(f"/m/test-coffee/p/{latte.id}?store={world.store_b.id}")
    assert f"store_{world.merchant.id}={world.store_b.id}" in r.headers["Set-Cookie"]
    later = text(client.get(f"/m/test-coffee/p/{latte.id}"))
    assert f'name="store_id" value="{world.store_b.id}"' in later
    # another merchant's store id in the URL is not accepted
    foreign = text(client.get(f"/m/test-coffee/p/{latte.id}?store={world.other_store.id}"))
    assert f'name="store_id" value="{world.store_b.id}"' in foreign


def test_product_reviews_average_and_newest_ten(client, world, latte):
    for i in range(12):  # six 5s and six 4s: 4.5 on average
        add_review(world.merchant, latte, world.store, 5 if i % 2 else 4, f"评价{i:02d}", days_ago=i)
    db.session.commit()
    html = text(client.get(f"/m/test-coffee/p/{latte.id}"))
    assert element(html, "rating") == "★ 4.5 · 12 条评价"
    shown = re.findall(r"评价(\d\d)", html)
    assert shown == [f"{i:02d}" for i in range(10)]  # newest first, ten of them
    assert "评价人" not in html  # nicknames are masked


def test_a_long_review_folds_with_more_and_a_short_one_does_not(client, world, latte):
    """Issue #9 point 11: a 500-character review filled the page. It folds after three lines (catalog.js
    shows 展开 when the text is cut; tests/browser/test_purchase.py clicks it)."""
    add_review(world.merchant, latte, world.store, 5, "好喝" * 250)
    add_review(world.merchant, latte, world.store, 4, "不错", days_ago=1)
    db.session.commit()
    html = text(client.get(f"/m/test-coffee/p/{latte.id}"))
    folded = re.findall(r'<p class="pd-review__body is-folded" id="(review-\d+)" data-fold', html)
    assert len(folded) == 1 and "好喝" * 250 in html  # all of it is there, folded by CSS
    assert f'aria-controls="{folded[0]}"' in html and 'data-more="展开" data-less="收起"' in html
    assert html.count('data-testid="review-more"') == 1


def test_product_without_reviews_says_so(client, world, latte):
    html = text(client.get(f"/m/test-coffee/p/{latte.id}"))
    assert "暂无评价" in html and 'data-testid="rating"' not in html


def test_signed_in_member_pays_the_member_price(client, world, latte):
    member = demo_member(world.merchant.id, "小王")
    db.session.commit()
    with client.session_transaction() as s:
        s["members"] = {str(world.merchant.id): member.id}
    html = text(client.get(f"/m/test-coffee/p/{latte.id}?store={world.store.id}"))
    price = element(html, "price")
    assert price.startswith("¥25") and "会员价" in price and "¥28" in price
    assert re.search(r'<s class="cat-list">¥28</s>', html)
    assert "登录享会员价" not in html
    assert "¥36" in sku_label(html, latte.skus[2].id)  # no member price: the list price
    card = text(client.get("/m/test-coffee/"))
    assert re.search(r'<span class="price">¥25</span> <s class="cat-list">¥28</s>', card)


def test_member_of_another_merchant_gets_list_price(client, world, latte):
    stranger = demo_member(world.other_merchant.id, "路人")
    db.session.commit()
    with client.session_transaction() as s:
        s["members"] = {str(world.merchant.id): stranger.id}
    assert element(text(client.get(f"/m/test-coffee/p/{latte.id}")), "price").startswith("¥28")


def test_other_merchants_and_inactive_things_are_not_found(client, world, latte):
    bread = add_product(world.other_merchant, "法棍", [("根", 1200, None)])
    hidden = add_product(world.merchant, "下架商品", [("个", 100, None)], active=False)
    db.session.commit()
    assert client.get(f"/m/test-coffee/p/{bread.id}").status_code == 404
    assert client.get(f"/m/other-bakery/p/{latte.id}").status_code == 404
    assert client.get(f"/m/test-coffee/p/{hidden.id}").status_code == 404
    assert client.get(f"/m/test-coffee/p/{bread.id}/qr.png").status_code == 404
    assert client.get(f"/m/test-coffee/p/{latte.id}/qr.png?store={world.other_store.id}").status_code == 404
    assert client.get(f"/m/test-coffee/s/{world.other_store.id}").status_code == 404
    assert client.get(f"/m/other-bakery/s/{world.store.id}").status_code == 404
    assert client.get("/m/no-such-shop/p/1").status_code == 404


# --- shelf QR -----------------------------------------------------------------------------------------

def test_shelf_qr_encodes_the_product_url_with_its_store(client, world, latte):
    r = client.get(f"/m/test-coffee/p/{latte.id}/qr.png?store={world.store_b.id}")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.data.startswith(b"\x89PNG\r\n\x1a\n")
    expected = f"http://shop.test/m/test-coffee/p/{latte.id}?store={world.store_b.id}"
    assert r.data == qr.png(expected)
    assert r.data != qr.png(f"http://shop.test/m/test-coffee/p/{latte.id}?store={world.store.id}")
    assert r.headers["Cache-Control"] == "public, max-age=86400"
    # what the QR opens: the product page with that store chosen (and remembered)
    opened = client.get(expected.removeprefix("http://shop.test"))
    assert f'name="store_id" value="{world.store_b.id}"' in text(opened)
    assert f"store_{world.merchant.id}={world.store_b.id}" in opened.headers["Set-Cookie"]


# --- store --------------------------------------------------------------------------------------------

def test_store_page_shows_facts_and_only_what_is_in_stock(client, world, latte):
    m = world.merchant
    elsewhere = add_product(m, "贝果", [("原味", 1500, 1300)])
    set_stock(world.store, elsewhere.skus[0], 0)
    set_stock(world.store_b, elsewhere.skus[0], 7)
    retired = add_product(m, "旧款", [("个", 900, None)])
    retired.skus[0].active = False
    set_stock(world.store, retired.skus[0], 9)
    gone = add_product(m, "停售", [("个", 900, None)], active=False)
    set_stock(world.store, gone.skus[0], 9)
    world.store.delivery_radius_m = 3000
    set_hours(world.store, "08:00", "21:00")
    db.session.commit()

    r = client.get(f"/m/test-coffee/s/{world.store.id}")
    html = text(r)
    assert product_ids(html) == [latte.id]
    assert f'/m/test-coffee/p/{latte.id}?store={world.store.id}' in html
    assert "北京市朝阳区国贸店" in html and "08:00–21:00" in html
    assert 'href="tel:01012345678"' in html and "010-12345678" in html
    assert ('href="https://uri.amap.com/marker?position=116.4605,39.9087&amp;name=%E5%9B%BD%E8%B4%B8%E5%BA%97"'
            in html)
    assert element(html, "delivery") == "支持 3 公里内配送"
    assert f"store_{m.id}={world.store.id}" in r.headers["Set-Cookie"]

    other = text(client.get(f"/m/test-coffee/s/{world.store_b.id}"))
    assert product_ids(other) == [elsewhere.id]
    assert element(other, "delivery") == "仅支持到店自提"


# --- compression and caching ----------------------------------------------------------------------------

def test_html_and_css_are_gzipped_when_the_client_accepts_it(client, world, latte):
    r = client.get("/m/test-coffee/", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in r.headers["Vary"]
    assert "拿铁" in gzip.decompress(r.data).decode()

    raw = (STATIC / "vendor/weui/weui.min.css").read_bytes()
    for _ in range(2):  # the second answer comes from the compressed-file cache
        css = client.get("/static/vendor/weui/weui.min.css", headers={"Accept-Encoding": "gzip, deflate"})
        assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(css.data) == raw
        assert len(css.data) < len(raw) / 5
        assert "max-age=86400" in css.headers["Cache-Control"]

    plain_css = client.get("/static/vendor/weui/weui.min.css")
    assert "Content-Encoding" not in plain_css.headers and plain_css.data == raw
    plain_css.close()

    js = client.get("/static/shop/catalog.js", headers={"Accept-Encoding": "gzip"})
    assert js.headers["Content-Encoding"] == "gzip"
    png = client.get(f"/m/test-coffee/p/{latte.id}/qr.png", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in png.headers


def test_brotli_is_preferred_when_offered(client, world):
    import brotli

    r = client.get("/static/shop/shop.css", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.headers["Content-Encoding"] == "br"
    assert brotli.decompress(r.data) == (STATIC / "shop/shop.css").read_bytes()


def test_a_revalidated_static_file_is_not_sent_again(client):
    first = client.get("/static/app.css", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    again = client.get("/static/app.css", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_catalog_pages_link_the_cart_with_its_count_and_the_member_page(client, world, latte):
    pages = ["/m/test-coffee/", f"/m/test-coffee/p/{latte.id}", f"/m/test-coffee/s/{world.store.id}"]
    for url in pages:
        html = text(client.get(url))
        assert 'href="/m/test-coffee/cart" data-testid="nav-cart"' in html, url
        assert 'href="/m/test-coffee/me" data-testid="nav-me"' in html, url
        assert 'data-testid="nav-cart-count"' not in html, url  # an empty cart shows no badge
    r = client.post("/m/test-coffee/cart/add", data={"store_id": world.store.id, "sku_id": latte.skus[0].id,
                                                    "quantity": 2})
    assert r.status_code in (200, 302), r.status_code
    for url in pages:
        assert element(text(client.get(url)), "nav-cart-count") == "2", url


def test_the_product_page_counts_what_the_cart_already_holds(client, world, latte):
    mid, big, huge = latte.skus  # 3, 0 and 20 at world.store
    url = f"/m/test-coffee/p/{latte.id}?store={world.store.id}"
    client.post("/m/test-coffee/cart/add", data={"store_id": world.store.id, "sku_id": mid.id, "quantity": 2})
    html = text(client.get(url))
    label = sku_label(html, mid.id)
    assert "购物车已有 2 件" in plain(label) and 'data-stock="1"' in label  # one more can be added
    assert re.search(r'id="pd-qty"[^>]*max="1"', html)
    client.post("/m/test-coffee/cart/add", data={"store_id": world.store.id, "sku_id": mid.id, "quantity": 1})
    html = text(client.get(url))
    label = sku_label(html, mid.id)
    assert "购物车已有 3 件 · 已达库存" in plain(label) and re.search(r'name="sku_id"[^>]*disabled', label)
    assert re.search(r'name="sku_id"[^>]*checked', sku_label(html, huge.id))  # the next SKU one can add
    assert "仅剩 3 件" in plain(label)  # the store's stock is still what it is
    # at another store the cart (of this store) does not count
    other = text(client.get(f"/m/test-coffee/p/{latte.id}?store={world.store_b.id}"))
    assert 'data-testid="in-cart"' not in other


def test_when_all_the_stock_is_in_the_cart_the_page_says_so(client, world):
    croissant = add_product(world.merchant, "可颂", [("个", 1800, None)])
    set_stock(world.store, croissant.skus[0], 2)
    db.session.commit()
    client.post("/m/test-coffee/cart/add", data={"store_id": world.store.id, "sku_id": croissant.skus[0].id,
                                                "quantity": 2})
    html = text(client.get(f"/m/test-coffee/p/{croissant.id}?store={world.store.id}"))
    assert 'data-testid="all-in-cart"' in html and 'data-testid="sold-out"' not in html
    assert re.search(r'data-testid="add"[^>]*disabled', html)
