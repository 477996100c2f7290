"""The product page kept as HTML per worker (app.web.shop.page_memo): a kept page is byte for byte the page
rendered afresh, whatever changed in between (stock, the cart, a member signing in, the language, the
store, the clock), each browser gets its own CSRF token in it, and the memo stays bounded."""
from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import template_rendered

from app.catalog.models import StoreStock
from app.core import clock
from app.extensions import db
from app.members.service import demo_member
from app.web.shop import page_memo
from tests.groupbuys.conftest import make_campaign
from tests.support.csrf import plain_client
from tests.web.test_catalog import add_product, latte, set_stock, text  # noqa: F401

PAGE = "shop/product.html"


@contextlib.contextmanager
def renders(app):
    """The names of the templates rendered inside the block."""
    names: list[str] = []

    def seen(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(seen, app)
    try:
        yield names
    finally:
        template_rendered.disconnect(seen, app)


def kept_and_fresh(app, client, url) -> tuple[str, str, bool]:
    """The page as the memo serves it, the page rendered with the memo off, and whether the memo rendered."""
    with renders(app) as names:
        kept = text(client.get(url))
    app.config["SHOP_PAGE_MEMO"] = False
    try:
        fresh = text(client.get(url))
    finally:
        app.config["SHOP_PAGE_MEMO"] = True
    return kept, fresh, PAGE in names


def test_a_kept_page_is_the_page_rendered_afresh_after_every_change(app, client, world, latte):
    url = f"/m/test-coffee/p/{latte.id}?store={world.store.id}"
    mid = latte.skus[0]

    def check(step: str, must_render: bool) -> str:
        kept, fresh, rendered = kept_and_fresh(app, client, url)
        assert rendered == must_render, step
        assert kept == fresh, step
        again, _, rendered = kept_and_fresh(app, client, url)
        assert not rendered and again == kept, f"{step}: the second view comes from the memo"
        return kept

    first = check("first view", True)
    assert "仅剩 3 件" in first
    # Stock is read per request, not part of the snapshot: a sale changes the page without a new rev.
    db.session.execute(sa.update(StoreStock).where(StoreStock.store_id == world.store.id,
                                                   StoreStock.sku_id == mid.id).values(quantity=1))
    db.session.commit()
    assert "仅剩 1 件" in check("stock changed", True)
    r = client.post("/m/test-coffee/cart/add", data={"store_id": world.store.id, "sku_id": mid.id, "quantity": 1})
    assert r.status_code in (302, 303)
    in_cart = check("one in the cart", True)
    assert "购物车已有 1 件" in in_cart and 'data-testid="nav-cart-count">1<' in in_cart
    member = demo_member(world.merchant.id, "小王")
    db.session.commit()
    with client.session_transaction() as s:
        s["members"] = {str(world.merchant.id): member.id}
    signed_in = check("signed in", True)
    assert "登录享会员价" in in_cart and "登录享会员价" not in signed_in
    url += "&lang=en"
    assert "Member price" in check("in English", True)
    url = f"/m/test-coffee/p/{latte.id}?store={world.store_b.id}"
    assert "Sold out" in check("another store (the language is remembered)", True)


def test_each_browser_gets_its_own_csrf_token_in_a_kept_page(app, world, latte):
    url = f"/m/test-coffee/p/{latte.id}?store={world.store.id}"
    first, second = plain_client(app), plain_client(app)
    text(first.get(url))
    with renders(app) as names:
        page = text(second.get(url))
    assert PAGE not in names, "the second browser's page comes from the memo"
    a, b = first.get_cookie("csrf").value, second.get_cookie("csrf").value
    assert a != b
    assert f'name="csrf_token" value="{b}"' in page and a not in page
    # And the token works: the second browser adds to its cart with the form it was given.
    r = second.post("/m/test-coffee/cart/add", data={"csrf_token": b, "store_id": world.store.id,
                                                     "sku_id": latte.skus[0].id, "quantity": 1})
    assert r.status_code in (302, 303)


def test_a_group_buy_ending_takes_its_card_off_the_kept_page(app, client, world, latte, frozen):
    make_campaign(world.merchant, latte.skus[0], [world.store], ends=frozen + timedelta(hours=1))
    db.session.commit()
    url = f"/m/test-coffee/p/{latte.id}?store={world.store.id}"
    kept, fresh, _ = kept_and_fresh(app, client, url)
    assert 'data-testid="groupbuy-button"' in kept and kept == fresh
    clock.freeze(frozen + timedelta(hours=2))
    kept, fresh, _ = kept_and_fresh(app, client, url)
    assert 'data-testid="groupbuy-button"' not in kept and kept == fresh


def test_a_query_parameter_the_page_does_not_read_is_not_kept(app, client, world, latte):
    url = f"/m/test-coffee/p/{latte.id}?store={world.store.id}&utm_source=poster"
    for _ in range(2):
        with renders(app) as names:
            text(client.get(url))
        assert PAGE in names


def test_the_memo_keeps_the_most_recently_used_pages(app, client, world, monkeypatch):
    monkeypatch.setattr(page_memo.PAGES, "size", 2)
    products = [add_product(world.merchant, f"茶{i}", [("杯", 1000 + i, None)]) for i in range(3)]
    for p in products:
        set_stock(world.store, p.skus[0], 5)
    db.session.commit()

    def rendered(p) -> bool:
        with renders(app) as names:
            text(client.get(f"/m/test-coffee/p/{p.id}?store={world.store.id}"))
        return PAGE in names

    assert [rendered(p) for p in products] == [True, True, True]
    assert not rendered(products[2]) and not rendered(products[1])
    # Kept now: 2 then 1 (the most recent). Page 0 comes back and pushes out 2, the least recently used.
    assert rendered(products[0])
    assert not rendered(products[1]) and rendered(products[2])


def test_a_kept_home_page_is_the_home_page_rendered_afresh(app, client, world, latte):
    home = "shop/home.html"

    def check(url: str, step: str) -> str:
        with renders(app) as names:
            text(client.get(url))
        kept, fresh, _ = kept_and_fresh(app, client, url)
        with renders(app) as again:
            assert text(client.get(url)) == kept
        assert home not in again, f"{step}: the second view comes from the memo"
        assert kept == fresh, step
        return kept

    assert "当前门店" not in check("/m/test-coffee/", "first view")
    assert "当前门店" in check(f"/m/test-coffee/?store={world.store_b.id}", "a store chosen")
    assert "当前门店" in check("/m/test-coffee/", "the chosen store remembered")
    check(f"/m/test-coffee/?c={latte.category_id}", "a category")
    # The position a phone shared (kept in a cookie) sorts the stores and shows distances.
    client.get("/m/test-coffee/?lat=39.95&lng=116.455")
    assert 'data-testid="distance"' in check("/m/test-coffee/", "located")
    client.post("/m/test-coffee/cart/add", data={"store_id": world.store.id, "sku_id": latte.skus[0].id, "quantity": 2})
    assert 'data-testid="nav-cart-count">2<' in check("/m/test-coffee/", "two in the cart")
    member = demo_member(world.merchant.id, "小王")
    db.session.commit()
    with client.session_transaction() as s:
        s["members"] = {str(world.merchant.id): member.id}
    check("/m/test-coffee/", "signed in")
    check("/m/test-coffee/?lang=en", "in English")
    # A search is rendered afresh every time.
    for _ in range(2):
        with renders(app) as names:
            assert "拿铁" in text(client.get("/m/test-coffee/?q=拿铁"))
        assert home in names
