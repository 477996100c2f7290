"""The product CSV (one row per SKU): export → import → unchanged; new products and SKUs, changed prices,
written through app.catalog.editing (audited, catalog rev replaced); a bad row changes nothing."""
from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from app.catalog.models import Category, Product, Sku
from app.core.database import commit
from app.extensions import db
from app.merchants.models import AuditEvent, Merchant
from tests.support.factories import make_product
from tests.web.console_support import CSRF, console_client, post

HEADER = "product,category,description,published,sku_id,sku_code,sku,price,member_price\n"


@pytest.fixture
def shop(world):
    coffee = Category(merchant_id=world.merchant.id, name="咖啡")
    db.session.add(coffee)
    db.session.flush()
    latte = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500), ("大杯", 3200, None)))
    latte.category_id, latte.description = coffee.id, "浓缩加牛奶, \"丝滑\""
    latte.skus[0].code, latte.skus[1].code = "LATTE-M", "LATTE-L"
    make_product(world.other_merchant, "别家吐司", (("整条", 1800, None),)).skus[0].code = "TOAST"
    commit()
    return world, latte


def upload(client, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    r = client.post("/console/products/import", data={"csrf_token": CSRF, "file": (io.BytesIO(data), "p.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return r.location, int(r.location.rsplit("/", 1)[1])


def test_export_imports_back_unchanged(app, shop):
    world, latte = shop
    client = console_client(app, world.owner)
    raw = client.get("/console/products/skus.csv").get_data()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1] == ["拿铁", "咖啡", "浓缩加牛奶, \"丝滑\"", "1", str(latte.skus[0].id), "LATTE-M", "中杯", "28.00", "25.00"]
    assert "别家" not in raw.decode("utf-8-sig")
    location, upload_id = upload(client, raw)
    assert "不变 2" in client.get(location).get_data(as_text=True)
    rev = db.session.get(Merchant, world.merchant.id).catalog_rev
    assert post(client, f"/console/products/imports/{upload_id}/apply").status_code == 200
    db.session.expire_all()
    assert db.session.get(Merchant, world.merchant.id).catalog_rev == rev  # nothing written


def test_import_creates_and_updates_through_the_editing_rules(app, shop):
    world, latte = shop
    client = console_client(app, world.owner)
    text = HEADER + (f"拿铁,咖啡,浓缩加牛奶,1,{latte.skus[0].id},LATTE-M,中杯,29.5,26\n"  # price changed
                     ",,,,,,,,\n"
                     "拿铁,咖啡,浓缩加牛奶,1,,LATTE-XL,超大杯,36,\n"  # a new SKU of an existing product
                     "可颂,,黄油可颂,0,,CROIS-1,原味,12,\n"  # a new product, unpublished, with two SKUs
                     "可颂,,黄油可颂,0,,CROIS-2,巧克力,14.00,13\n")
    location, upload_id = upload(client, text)
    preview = client.get(location).get_data(as_text=True)
    assert "新建 3" in preview and "更新 1" in preview and "错误 0" in preview
    rev = db.session.get(Merchant, world.merchant.id).catalog_rev
    assert post(client, f"/console/products/imports/{upload_id}/apply").status_code == 200
    db.session.expire_all()
    assert (latte.skus[0].price_fen, latte.skus[0].member_price_fen) == (2950, 2600)
    croissant = db.session.execute(sa.select(Product).where(Product.name == "可颂")).scalar_one()
    assert croissant.active is False and [(s.code, s.price_fen, s.member_price_fen) for s in croissant.skus] == [
        ("CROIS-1", 1200, None), ("CROIS-2", 1400, 1300)]
    assert db.session.execute(sa.select(Sku.name).where(Sku.code == "LATTE-XL")).scalar() == "超大杯"
    assert db.session.get(Merchant, world.merchant.id).catalog_rev != rev  # the shop shows it on its next page
    actions = set(db.session.execute(sa.select(AuditEvent.action)).scalars())
    assert {"sku.update", "sku.create", "product.create", "products.import"} <= actions
    # The same file again: unchanged everywhere.
    location, _ = upload(client, text)
    assert "不变 4" in client.get(location).get_data(as_text=True)


def test_a_bad_row_changes_nothing(app, shop):
    world, latte = shop
    client = console_client(app, world.owner)
    text = HEADER + ("拿铁,咖啡,浓缩加牛奶,1,,LATTE-M,中杯,30,\n"
                     "拿铁,咖啡,浓缩加牛奶,1,,LATTE-L,大杯,30,31\n"  # row 3: member price above price
                     "可颂,面包,,1,,CROIS-1,原味,12,\n"  # row 4: no such category
                     "拿铁,,另一种描述,1,,LATTE-S,小杯,20,\n"  # row 5: disagrees with row 2 on the product
                     "贝果,,,1,,TOAST,原味,12,\n"  # row 6: another merchant's code is free here: created
                     "贝果,,,1,,BAGEL,,abc,\n")  # row 7: sku name and price
    location, upload_id = upload(client, text)
    preview = client.get(location).get_data(as_text=True)
    assert "错误 4" in preview
    for line, column in ((3, "member_price"), (4, "category"), (5, "category"), (7, "sku")):
        assert f'data-line="{line}"' in preview and f"<td>{line}</td><td>{column}</td>" in preview
    assert post(client, f"/console/products/imports/{upload_id}/apply").status_code == 409
    db.session.expire_all()
    assert latte.skus[0].price_fen == 2800
    assert db.session.execute(sa.select(sa.func.count()).select_from(Product).where(Product.name == "贝果")).scalar() == 0
    r = client.post(f"/console/products/imports/{upload_id}/apply",
                    data={"csrf_token": CSRF, "exclude": ["3", "4", "5", "7"]})
    assert r.status_code == 200
    db.session.expire_all()
    assert latte.skus[0].price_fen == 3000
    assert db.session.execute(sa.select(Sku.code).join(Product).where(Product.name == "贝果")).scalar() == "TOAST"


def test_store_managers_may_export_but_not_import(app, shop):
    world, _ = shop
    client = console_client(app, world.manager)
    assert client.get("/console/products/skus.csv").status_code == 200
    assert client.get("/console/products/import").status_code == 403
