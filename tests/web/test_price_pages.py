"""The amounts the shop shows for one basket, for a member and for a guest, on the product page, the cart,
checkout and the order page. Written against the code before the price quote (issue #8) to capture what
the pages said then; the quote must show the same amounts. Checkout and the order page list their lines at
list price since (issue #9, point 10: 商品金额 is the sum of the lines shown, then 会员优惠, then 应付)."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from app.catalog.models import Product, Sku, StoreStock
from app.extensions import db as _db
from app.members.service import demo_member
from app.orders.models import Order
from tests.conftest import member_client
from tests.web.test_catalog import outer, plain

SLUG = "test-coffee"


@pytest.fixture
def basket(db, world):
    m = world.merchant
    latte = Product(merchant_id=m.id, name="拿铁", image="img/products/latte.png")
    latte.skus = [Sku(name="中杯", price_fen=2800, member_price_fen=2500),
                  Sku(name="大杯", price_fen=3200, member_price_fen=2900)]
    bagel = Product(merchant_id=m.id, name="贝果", image="img/products/bagel.png")
    bagel.skus = [Sku(name="原味", price_fen=1550)]
    db.session.add_all([latte, bagel])
    db.session.flush()
    medium, large = latte.skus
    plain_ = bagel.skus[0]
    db.session.add_all([StoreStock(store_id=world.store.id, sku_id=s.id, quantity=10) for s in (medium, large, plain_)])
    member = demo_member(m.id, "小明")
    db.session.commit()
    return SimpleNamespace(store=world.store, latte=latte, bagel=bagel, medium=medium, large=large,
                           plain=plain_, member=member)


def fill(c, basket):
    for sku, qty in ((basket.medium, 2), (basket.large, 1), (basket.plain, 3)):
        r = c.post(f"/m/{SLUG}/cart/add", data={"store_id": basket.store.id, "sku_id": sku.id, "quantity": qty})
        assert r.status_code == 302


def page(c, url) -> str:
    r = c.get(url)
    assert r.status_code == 200, r.status_code
    return r.get_data(as_text=True)


def yuan(s: str) -> list[str]:
    return re.findall(r"[−-]?¥[\d.]+", s)


def rows(html: str, testid: str) -> dict[str, str]:
    """The label: amount rows (sp-kv) of a card."""
    card = outer(html, f'data-testid="{testid}"')
    return {plain(label).strip(): plain(value).strip()
            for label, value in re.findall(r'<div class="sp-kv[^"]*"[^>]*><span>(.*?)</span>\s*<span[^>]*>(.*?)</span>',
                                           card, re.S)}


def product_prices(html: str) -> dict[str, str]:
    shown = {"headline": plain(outer(html, 'data-testid="price"')).strip()}
    for name, price in re.findall(r'<p class="pd-sku__name">(.*?)</p>\s*<p class="pd-sku__price">(.*?)</p>', html, re.S):
        shown[name] = plain(price).strip()
    return shown


def cart_amounts(html: str) -> dict:
    lines = {}
    for line in re.findall(r'<div class="sp-line[^"]*" data-testid="cart-line".*?data-testid="remove"', html, re.S):
        name = plain(re.search(r'<p class="sp-line__sku">(.*?)</p>', line).group(1)).strip()
        prices = re.search(r'<div class="sp-line__row">\s*<span>(.*?)</span>\s*<form', line, re.S).group(1)
        lines[name] = plain(prices).strip()
    foot = plain(outer(html, 'class="sp-foot__sum"')).strip()
    return {"lines": lines, "foot": foot}


# --- what the pages said before the quote ------------------------------------------------------------

MEMBER_PRODUCT = {"headline": "¥25 会员价 ¥28", "中杯": "¥25 会员价 ¥28", "大杯": "¥29 会员价 ¥32"}
GUEST_PRODUCT = {"headline": "¥28 会员价 ¥25", "中杯": "¥28 会员价 ¥25", "大杯": "¥32 会员价 ¥29"}
MEMBER_BAGEL = {"headline": "¥15.5", "原味": "¥15.5"}
MEMBER_CART = {"lines": {"中杯": "¥25.00 ¥28.00", "大杯": "¥29.00 ¥32.00", "原味": "¥15.50"},
               "foot": "合计 ¥125.50 ¥134.50"}
GUEST_CART = {"lines": {"中杯": "¥28.00 会员价 ¥25.00", "大杯": "¥32.00 会员价 ¥29.00", "原味": "¥15.50"},
              "foot": "合计 ¥134.50"}
# 2 × 28 + 32 + 3 × 15.50 = 134.50 at list price; members save 2 × 3 + 3 = 9.
MEMBER_TOTALS = {"商品金额": "¥134.50", "会员优惠": "−¥9.00"}


def test_product_page_prices_for_a_member_and_a_guest(app, basket):
    me, guest = member_client(app, basket.member), app.test_client()
    html = page(me, f"/m/{SLUG}/p/{basket.latte.id}")
    assert product_prices(html) == MEMBER_PRODUCT
    assert 'data-testid="price"><span class="price">¥25</span>' in html  # as tests/live/test_catalog_fresh.py reads it
    assert product_prices(page(guest, f"/m/{SLUG}/p/{basket.latte.id}")) == GUEST_PRODUCT
    assert product_prices(page(me, f"/m/{SLUG}/p/{basket.bagel.id}")) == MEMBER_BAGEL
    assert product_prices(page(guest, f"/m/{SLUG}/p/{basket.bagel.id}")) == MEMBER_BAGEL


def test_product_cards_for_a_member_and_a_guest(app, basket):
    me, guest = member_client(app, basket.member), app.test_client()
    card = r'<a class="card product cat-card"[^>]*data-product-id="%d">.*?</a>'
    for c, latte, bagel in ((me, "拿铁 ¥25 ¥28", "贝果 ¥15.5"), (guest, "拿铁 ¥28 会员价 ¥25", "贝果 ¥15.5")):
        html = page(c, f"/m/{SLUG}/")
        assert plain(re.search(card % basket.latte.id, html, re.S).group(0)).strip() == latte
        assert plain(re.search(card % basket.bagel.id, html, re.S).group(0)).strip() == bagel


def test_cart_amounts_for_a_member_and_a_guest(app, basket):
    me, guest = member_client(app, basket.member), app.test_client()
    fill(me, basket)
    fill(guest, basket)
    assert cart_amounts(page(me, f"/m/{SLUG}/cart")) == MEMBER_CART
    assert cart_amounts(page(guest, f"/m/{SLUG}/cart")) == GUEST_CART


def test_checkout_and_order_amounts_for_a_member(app, basket):
    me = member_client(app, basket.member)
    fill(me, basket)
    checkout = page(me, f"/m/{SLUG}/checkout")
    assert rows(checkout, "checkout-lines") == {**MEMBER_TOTALS, "应付": "¥125.50"}
    assert plain(outer(checkout, 'class="sp-foot__sum"')).strip() == "应付 ¥125.50"

    r = me.post(f"/m/{SLUG}/checkout", data={"pickup_at": "asap", "pay": "store"})
    assert r.status_code == 302
    order_id = int(re.search(r"/orders/(\d+)", r.headers["Location"]).group(1))
    order = _db.session.get(Order, order_id)
    assert (order.total_fen, order.list_total_fen) == (12550, 13450)
    assert sorted((l.sku_name, l.quantity, l.unit_price_fen, l.list_price_fen) for l in order.lines) == [
        ("中杯", 2, 2500, 2800), ("原味", 3, 1550, 1550), ("大杯", 1, 2900, 3200)]
    shown = rows(page(me, f"/orders/{order_id}"), "order-lines")
    assert {k: shown[k] for k in ("商品金额", "会员优惠", "应付")} == {**MEMBER_TOTALS, "应付": "¥125.50"}


def fen(amount: str) -> int:
    value = int(round(float(amount.replace("−", "-").replace("¥", "")) * 100))
    return value


def breakdown(html: str, prefix: str) -> tuple[list[int], int, list[int], int]:
    """(line amounts, 商品金额, discounts, 应付) as the page shows them."""
    lines = [fen(a) for a in re.findall(r'data-testid="line-amount">([^<]+)<', html)]
    list_total = fen(re.search(rf'data-testid="{prefix}-list-total">([^<]+)<', html).group(1))
    discounts = [fen(a) for a in re.findall(rf'data-testid="{prefix}-discount" data-kind="\w+">([^<]+)<', html)]
    total = fen(re.search(rf'data-testid="{prefix}-total">([^<]+)<', html).group(1))
    return lines, list_total, discounts, total


def test_checkout_and_the_order_show_one_breakdown_that_adds_up(app, basket):
    """Issue #9, point 10: lines at member price above a 商品金额 at list price did not add up."""
    me = member_client(app, basket.member)
    fill(me, basket)
    checkout = page(me, f"/m/{SLUG}/checkout")
    lines, list_total, discounts, total = breakdown(checkout, "checkout")
    assert lines == [5600, 3200, 4650]  # 中杯 × 2, 大杯, 原味 × 3 at list price
    assert sum(lines) == list_total == 13450
    assert discounts == [-900] and list_total + sum(discounts) == total == 12550
    assert 'data-kind="member_price">−¥9.00' in checkout and "会员优惠" in checkout

    r = me.post(f"/m/{SLUG}/checkout", data={"pickup_at": "asap", "pay": "store"})
    order_page = page(me, r.headers["Location"])
    assert breakdown(order_page, "order") == (lines, list_total, discounts, total)


def test_a_guests_cart_and_a_member_without_member_prices_show_no_discount(app, basket):
    me = member_client(app, basket.member)
    me.post(f"/m/{SLUG}/cart/add", data={"store_id": basket.store.id, "sku_id": basket.plain.id, "quantity": 2})
    checkout = page(me, f"/m/{SLUG}/checkout")
    assert breakdown(checkout, "checkout") == ([3100], 3100, [], 3100)
    assert "会员优惠" not in checkout


def test_the_checkout_breakdown_speaks_english(app, basket):
    me = member_client(app, basket.member)
    fill(me, basket)
    checkout = page(me, f"/m/{SLUG}/checkout?lang=en")
    assert rows(checkout, "checkout-lines") == {"Items": "¥134.50", "Member saving": "−¥9.00", "To pay": "¥125.50"}
