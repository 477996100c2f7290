"""The integrator API's catalog: products with SKUs (merchant key, paginated) and PUT stock batches:
absolute, all-or-nothing, idempotent, strict, another merchant's stores and SKUs are not found."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.models import StoreStock
from app.core.database import commit
from app.extensions import db
from tests.support.factories import make_product


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def shop(world):
    latte = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500), ("大杯", 3200, None)),
                         stock={world.store: 10})
    latte.skus[0].code = "LATTE-M"
    toast = make_product(world.other_merchant, "别家吐司", (("整条", 1800, None),), stock={world.other_store: 9})
    toast.skus[0].code = "TOAST"
    commit()
    return world, latte, toast


def qty(store_id, sku_id):
    return db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store_id, StoreStock.sku_id == sku_id)).scalar()


def test_products_list_the_merchants_own_with_skus_in_fen(client, shop):
    world, latte, _ = shop
    for i in range(3):
        make_product(world.merchant, f"可颂{i}")
    commit()
    r = client.get("/api/v1/products?per_page=2", headers=bearer(world.merchant_key))
    body = r.get_json()
    assert r.status_code == 200 and body["total"] == 4 and len(body["products"]) == 2
    first = body["products"][0]
    assert first["name"] == "拿铁" and first["published"] is True
    assert first["skus"][0] == {"id": latte.skus[0].id, "code": "LATTE-M", "name": "中杯", "price_fen": 2800,
                                "member_price_fen": 2500, "active": True}
    last = client.get("/api/v1/products?per_page=2&page=2", headers=bearer(world.merchant_key)).get_json()
    assert [p["name"] for p in last["products"]] == ["可颂1", "可颂2"]
    assert "别家吐司" not in r.get_data(as_text=True) + str(last)
    assert client.get("/api/v1/products?per_page=0", headers=bearer(world.merchant_key)).status_code == 400
    assert client.get("/api/v1/products", headers=bearer(world.counter_key)).status_code == 403
    assert client.get("/api/v1/products").status_code == 401


def test_put_stock_answers_what_changed_and_twice_changes_nothing(client, shop):
    world, latte, _ = shop
    small, large = latte.skus
    batch = {"items": [{"sku_code": "LATTE-M", "quantity": 4}, {"sku_id": large.id, "quantity": 6}]}
    url = f"/api/v1/stores/{world.store.id}/stock"
    r = client.put(url, json=batch, headers=bearer(world.merchant_key))
    assert r.status_code == 200
    assert r.get_json() == {"store_id": world.store.id, "unchanged": 0, "changed": [
        {"sku_id": small.id, "sku_code": "LATTE-M", "before": 10, "after": 4},
        {"sku_id": large.id, "sku_code": None, "before": 10, "after": 6}]}
    again = client.put(url, json=batch, headers=bearer(world.merchant_key)).get_json()
    assert again == {"store_id": world.store.id, "unchanged": 2, "changed": []}
    assert (qty(world.store.id, small.id), qty(world.store.id, large.id)) == (4, 6)
    # A store without rows for these SKUs: they are created.
    r = client.put(f"/api/v1/stores/{world.store_b.id}/stock", json={"items": [{"sku_id": small.id, "quantity": 2}]},
                   headers=bearer(world.merchant_key))
    assert r.get_json()["changed"] == [{"sku_id": small.id, "sku_code": "LATTE-M", "before": 0, "after": 2}]


@pytest.mark.parametrize("items, code, field", [
    ([{"sku_code": "LATTE-M", "quantity": "4"}], "bad_request", "items.0.quantity"),
    ([{"sku_code": "LATTE-M", "quantity": True}], "bad_request", "items.0.quantity"),
    ([{"sku_code": "LATTE-M", "quantity": -1}], "bad_request", "items.0.quantity"),
    ([{"sku_code": "LATTE-M", "sku_id": 1, "quantity": 1}], "bad_request", "items.0"),
    ([{"quantity": 1}], "bad_request", "items.0"),
    ([{"sku_code": "LATTE-M", "quantity": 1, "price": 3}], "bad_request", "items.0.price"),
    ([], "bad_request", "items"),
    ([{"sku_code": "LATTE-M", "quantity": 1}, {"sku_code": "NOPE", "quantity": 1}], "sku_not_found", "items.1"),
    ([{"sku_code": "LATTE-M", "quantity": 1}, {"sku_code": "TOAST", "quantity": 1}], "sku_not_found", "items.1"),
    ([{"sku_code": "LATTE-M", "quantity": 1}, {"sku_code": "LATTE-M", "quantity": 2}], "duplicate_sku", "items.1"),
])
def test_a_bad_line_refuses_the_whole_batch(client, shop, items, code, field):
    world, latte, _ = shop
    r = client.put(f"/api/v1/stores/{world.store.id}/stock?lang=en", json={"items": items},
                   headers=bearer(world.merchant_key))
    error = r.get_json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert r.status_code == {"bad_request": 400, "duplicate_sku": 400, "sku_not_found": 404}[code]
    assert qty(world.store.id, latte.skus[0].id) == 10  # the good line before it was not applied


def test_another_merchants_store_and_skus_are_not_found(client, shop):
    world, latte, toast = shop
    r = client.put(f"/api/v1/stores/{world.other_store.id}/stock", json={"items": [{"sku_id": toast.skus[0].id, "quantity": 1}]},
                   headers=bearer(world.merchant_key))
    assert (r.status_code, r.get_json()["error"]["code"]) == (404, "store_not_found")
    r = client.put(f"/api/v1/stores/{world.store.id}/stock", json={"items": [{"sku_id": toast.skus[0].id, "quantity": 1}]},
                   headers=bearer(world.merchant_key))
    assert (r.status_code, r.get_json()["error"]["code"]) == (404, "sku_not_found")
    assert qty(world.other_store.id, toast.skus[0].id) == 9
    r = client.put(f"/api/v1/stores/{world.store.id}/stock", json={"items": [{"sku_id": latte.skus[0].id, "quantity": 1}]},
                   headers=bearer(world.counter_key))
    assert r.status_code == 403
