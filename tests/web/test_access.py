"""Every URL, as every kind of caller: nothing answers 500, and each audience's pages refuse the others."""
from __future__ import annotations

import re

import pytest

from app.extensions import db
from tests.conftest import member_client
from tests.support.factories import make_member

PUBLIC_GET = {"health.healthz", "shop.index", "shop.home", "shop.product", "shop.product_qr", "shop.store",
              "shop.signin", "api.openapi", "counter.login", "static", "shop.scanned"}


def _url(rule, world) -> str:
    def value(match):
        name = match.group(2)
        if name == "slug":
            return world.merchant.slug
        if name == "filename":
            return "app.css"
        if match.group(1) in ("int", "id"):
            return "999999"
        return "nonsense"

    return re.sub(r"<(?:(\w+):)?(\w+)>", value, rule.rule)


@pytest.fixture
def callers(app, world):
    member = make_member(world.merchant, "路人")
    db.session.commit()

    def staff(person):
        c = app.test_client()
        with c.session_transaction() as s:
            s["staff_id"], s["staff_pw"], s["device"] = person.id, person.password_hash[-12:], "d"
        return c

    shopper = member_client(app, member)
    return {"anonymous": app.test_client(), "cashier": staff(world.cashier), "owner": staff(world.owner),
            "member": shopper}


def test_no_route_answers_500_to_anyone(app, world, callers):
    for rule in app.url_map.iter_rules():
        url = _url(rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who, client in callers.items():
                r = client.open(url, method=method, data={} if method == "POST" else None)
                assert r.status_code < 500, (who, method, url, r.status_code, r.get_data(as_text=True)[:300])


def test_counter_is_for_store_staff_only(app, world, callers):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("counter.") or rule.endpoint == "counter.login":
            continue
        url = _url(rule, world)
        method = "GET" if "GET" in rule.methods else "POST"
        r = callers["anonymous"].open(url, method=method, json={} if method == "POST" else None)
        if method == "GET":
            assert r.status_code == 302 and "/counter/login" in r.location, url
        elif rule.endpoint != "counter.logout":
            assert r.status_code == 401, url
            r = callers["owner"].open(url, method=method, json={})
            assert r.status_code == 403, url  # an owner has no store: not a counter
            r = callers["member"].open(url, method=method, json={})
            assert r.status_code == 401, url


def test_api_needs_a_key(app, world, callers):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        for who in ("anonymous", "cashier", "member"):
            r = callers[who].open(_url(rule, world), method=method, json={})
            assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized", (who, rule.rule)


def test_member_pages_send_strangers_to_sign_in(app, world, callers):
    for path in (f"/m/{world.merchant.slug}/me", f"/m/{world.merchant.slug}/checkout"):
        r = callers["anonymous"].get(path)
        assert r.status_code == 302 and "/signin" in r.location, path


def test_public_pages_are_public(app, world, callers):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_GET and "<id:" not in rule.rule:
            r = callers["anonymous"].get(_url(rule, world))
            assert r.status_code in (200, 302), rule.rule


def test_readme_documents_every_setting():
    from pathlib import Path

    from app.config import SETTINGS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in SETTINGS if f"| `{name}` |" not in readme]
    assert missing == []


def test_the_counter_page_carries_the_paused_sentences_in_either_language(cashier_client):
    """The locked-counter panel (issue #9 point 9) is worded by the page: the JS fills in the time."""
    zh = cashier_client.get("/counter/?lang=zh").get_data(as_text=True)
    assert "本机输错次数过多，已暂停查询，请于 {time} 后再试" in zh and "已暂停查询" in zh
    en = cashier_client.get("/counter/?lang=en").get_data(as_text=True)
    assert "Too many wrong codes on this device: lookups are paused; try again after {time}" in en
    cashier_client.get("/counter/?lang=zh")
