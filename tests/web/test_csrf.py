"""CSRF tokens on every form (app.web.csrf for the shop, the counter and the sandbox payer; the console's
own in app.web.console.guard): a POST without the pair is refused with a sentence and changes nothing; a
browser that loaded the form sends it back; the bearer-key API and the webhooks need none."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.catalog.models import Product, Sku, StoreStock
from app.members.service import demo_member
from tests.support.csrf import plain_client
from tests.support.factories import PASSWORD
from tests.vouchers.helpers import bearer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
SLUG = "test-coffee"


def test_every_post_form_in_every_template_carries_the_token():
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        for form in FORM.findall(path.read_text(encoding="utf-8")):
            opening = form[: form.index(">") + 1]
            if re.search(r'method="post"', opening, re.I) and "csrf_token()" not in form:
                missing.append(f"{path.relative_to(TEMPLATES)}: {opening[:80]}")
    assert missing == []


@pytest.fixture
def shop(db, world):
    latte = Product(merchant_id=world.merchant.id, name="拿铁", image="img/products/latte.png")
    latte.skus = [Sku(name="中杯", price_fen=2800)]
    db.session.add(latte)
    db.session.flush()
    db.session.add(StoreStock(store_id=world.store.id, sku_id=latte.skus[0].id, quantity=5))
    member = demo_member(world.merchant.id, "小明")
    db.session.commit()
    return latte, member


def _member(app, member):
    c = plain_client(app)
    with c.session_transaction() as s:
        s["members"] = {str(member.merchant_id): member.id}
    return c


def _cart(c, latte, world, **extra):
    return c.post(f"/m/{SLUG}/cart/add",
                  data={"store_id": world.store.id, "sku_id": latte.skus[0].id, "quantity": 1, **extra})


def test_a_post_without_the_token_is_refused_and_changes_nothing(app, world, shop):
    latte, member = shop
    c = _member(app, member)
    r = _cart(c, latte, world)
    assert r.status_code == 403 and "页面已过期" in r.get_data(as_text=True)
    c.set_cookie("csrf", "a" * 32)
    r = _cart(c, latte, world, csrf_token="b" * 32)  # a token that is not this browser's
    assert r.status_code == 403
    assert "拿铁" not in c.get(f"/m/{SLUG}/cart").get_data(as_text=True)


def test_the_form_a_browser_loaded_goes_through(app, world, shop):
    latte, member = shop
    c = _member(app, member)
    page = c.get(f"/m/{SLUG}/p/{latte.id}?store={world.store.id}")
    token = re.search(r'name="csrf_token" value="(\w+)"', page.get_data(as_text=True)).group(1)
    cookie = c.get_cookie("csrf")
    assert cookie is not None and cookie.value == token and cookie.http_only
    r = _cart(c, latte, world, csrf_token=token)
    assert r.status_code == 302
    assert "拿铁" in c.get(f"/m/{SLUG}/cart").get_data(as_text=True)
    # the next page keeps the same token (no new cookie)
    again = c.get(f"/m/{SLUG}/p/{latte.id}?store={world.store.id}")
    assert "csrf=" not in again.headers.get("Set-Cookie", "")


def test_counter_sign_in_and_its_script_need_the_token(app, world):
    c = plain_client(app)
    r = c.post("/counter/login", data={"username": "cashier", "password": PASSWORD})
    assert r.status_code == 403
    page = c.get("/counter/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="(\w+)"', page).group(1)
    r = c.post("/counter/login", data={"username": "cashier", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302
    counter = c.get("/counter/").get_data(as_text=True)
    assert f'<meta name="csrf-token" content="{token}">' in counter
    r = c.post("/counter/verify", json={"code": "2222-2222-2222"})  # the script's fetch without its header
    assert r.status_code == 403
    r = c.post("/counter/verify", json={"code": "2222-2222-2222"}, headers={"X-CSRFToken": token})
    assert r.status_code != 403


def test_the_api_needs_no_cookie(app, world):
    r = plain_client(app).post("/api/v1/vouchers", json={"title": "拿铁兑换券"}, headers=bearer(world.merchant_key))
    assert r.status_code == 201


def test_an_exempt_view_takes_a_post_without_the_pair(tmp_path):
    """csrf.exempt marks a view no cookie authenticates (the benchmarks' bare JSON baselines)."""
    from flask import Blueprint

    from app import create_app
    from app.web import csrf

    probe = Blueprint("csrf_probe", __name__)

    @probe.post("/csrf-probe/open")
    @csrf.exempt
    def open_probe():
        return "ok"

    @probe.post("/csrf-probe/closed")
    def closed_probe():
        return "ok"

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "APP_BASE_URL": "http://shop.test",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'probe.sqlite3'}"}, instance_path=tmp_path)
    app.register_blueprint(probe)
    c = plain_client(app)
    assert c.post("/csrf-probe/open").status_code == 200
    assert c.post("/csrf-probe/closed").status_code == 403
