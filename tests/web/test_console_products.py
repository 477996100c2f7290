"""The console's product pages: list (filter, sort, CSV), create with a photo and a SKU, edit SKUs (yuan on
screen, fen stored), photos (images only, within MAX_UPLOAD_BYTES), publish, categories; a store manager
reads only. What the console saves shows on the shop's next page."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.catalog.models import Category, Product, Sku
from app.extensions import db
from app.merchants.models import AuditEvent
from tests.support.factories import make_product
from tests.web.console_support import CSRF, console_client, post


def image_file(name="photo.jpg", fmt="JPEG", size=(900, 700)):
    out = io.BytesIO()
    Image.new("RGB", size, (180, 90, 30)).save(out, fmt)
    return (io.BytesIO(out.getvalue()), name)


def upload(client, url, **data):
    return client.post(url, data={"csrf_token": CSRF, **data}, content_type="multipart/form-data")


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def owner(app, world):
    return console_client(app, world.owner)


def shop_page(app, world, product) -> str:
    return text(app.test_client().get(f"/m/{world.merchant.slug}/p/{product.id}?store={world.store.id}"))


def test_owner_creates_a_product_with_photo_and_sku_and_the_shop_shows_it(app, world, owner):
    cat = Category(merchant_id=world.merchant.id, name="咖啡")
    db.session.add(cat)
    db.session.commit()
    r = upload(owner, "/console/products/new", name="桂花拿铁", category_id=str(cat.id), description="秋季限定",
               active="1", photo=image_file(), sku_name="中杯", sku_code="GH-LATTE-M", sku_price="29.9",
               sku_member_price="27")
    assert r.status_code == 302, text(r)
    product = db.session.execute(sa.select(Product).where(Product.name == "桂花拿铁")).scalar_one()
    assert r.location.endswith(f"/console/products/{product.id}")
    sku = product.skus[0]
    assert (sku.price_fen, sku.member_price_fen, sku.code) == (2990, 2700, "GH-LATTE-M")
    assert product.image.startswith("media:") and product.active and product.category_id == cat.id
    page = text(owner.get(r.location))
    assert 'value="29.90"' in page and 'value="27.00"' in page and "GH-LATTE-M" in page
    media = "/media/" + product.image.removeprefix("media:")
    assert media in page
    shop = shop_page(app, world, product)
    assert "桂花拿铁" in shop and media in shop and "29.9" in shop
    actions = [e.action for e in db.session.execute(sa.select(AuditEvent).where(
        AuditEvent.object_type.in_(("product", "sku")))).scalars()]
    assert actions == ["product.create", "sku.create", "product.cover"]
    assert f'href="/m/{world.merchant.slug}/p/{product.id}"' in page  # 在店铺中查看
    log = text(owner.get("/console/audit?action=product.cover"))
    assert '<option value="product.cover" selected' in log and log.count('data-action="product.cover"') == 1


def test_a_bad_form_is_shown_again_with_the_reason_and_nothing_is_saved(app, world, owner):
    r = upload(owner, "/console/products/new", name="坏价格", sku_name="中杯", sku_price="20", sku_member_price="21",
               photo=image_file())
    assert r.status_code == 400 and "会员价不能高于售价" in text(r) and 'value="坏价格"' in text(r)
    r = upload(owner, "/console/products/new", name="坏图片", photo=(io.BytesIO(b"just text\n" * 50), "cover.png"))
    assert r.status_code == 400 and "不是图片" in text(r)
    assert db.session.execute(sa.select(Product).where(Product.name.in_(("坏价格", "坏图片")))).first() is None


def test_edit_skus_in_yuan_with_refusals(app, world, owner):
    product = make_product(world.merchant, skus=(("中杯", 2800, 2500), ("大杯", 3200, None)))
    small, large = product.skus
    large.code = "BIG"
    db.session.commit()
    assert post(owner, f"/console/skus/{small.id}", name="中杯", code="MID", price="26.5",
                member_price="").status_code == 302
    assert (small.price_fen, small.member_price_fen, small.code) == (2650, None, "MID")
    r = post(owner, f"/console/skus/{small.id}", name="中杯", code="BIG", price="26.5", member_price="")
    assert r.status_code == 409 and "货号 BIG 已被其他 SKU 使用" in text(r)
    r = post(owner, f"/console/skus/{small.id}?lang=en", name="中杯", code="", price="-3", member_price="")
    assert r.status_code == 400 and "A price cannot be negative." in text(r)
    r = post(owner, f"/console/skus/{small.id}", name="中杯", code="", price="1.999", member_price="")
    assert r.status_code == 400 and "Field price must be an amount in yuan" in text(r)  # the cookie keeps English
    r = post(owner, f"/console/products/{product.id}/skus", name="超大杯", code="XL", price="38", member_price="35")
    assert r.status_code == 302
    assert [s.name for s in product.skus] == ["中杯", "大杯", "超大杯"]
    assert post(owner, f"/console/skus/{large.id}/deactivate").status_code == 302 and not large.active
    shop = shop_page(app, world, product)
    assert "超大杯" in shop and "大杯" not in shop.replace("超大杯", "")


def test_photos_must_be_images_and_within_the_upload_limit(app, world, owner, monkeypatch):
    product = make_product(world.merchant)
    db.session.commit()
    r = upload(owner, f"/console/products/{product.id}/cover", photo=(io.BytesIO(b"hello\n" * 100), "fake.png"))
    assert r.status_code == 400 and "上传的文件不是图片" in text(r)
    assert upload(owner, f"/console/products/{product.id}/cover", photo=image_file()).status_code == 302
    assert upload(owner, f"/console/products/{product.id}/photos", photo=image_file("b.png", "PNG")).status_code == 302
    assert len(product.photos) == 1
    page = text(owner.get(f"/console/products/{product.id}"))
    assert page.count("/media/products/") == 2
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 4096)
    big = image_file(size=(2000, 2000), fmt="PNG")
    big[0].write(b"\0" * 10000)  # padded past the limit
    big[0].seek(0)
    r = upload(owner, f"/console/products/{product.id}/photos", photo=big)
    assert r.status_code == 413 and len(product.photos) == 1
    photo_id = product.photos[0].id
    assert post(owner, f"/console/products/{product.id}/photos/{photo_id}/delete").status_code == 302
    assert product.photos == []


def test_list_filters_sorts_and_exports(app, world, owner):
    cat = Category(merchant_id=world.merchant.id, name="面包")
    db.session.add(cat)
    db.session.flush()
    croissant = make_product(world.merchant, "可颂", skus=(("单个", 1500, None),))
    croissant.category_id = cat.id
    latte = make_product(world.merchant, "拿铁")
    latte.skus[0].code = "LAT-001"
    hidden = make_product(world.merchant, "旧款蛋糕")
    hidden.active = False
    make_product(world.other_merchant, "别家吐司")
    db.session.commit()

    def names(url):
        return re.findall(r'data-product-id="\d+">\s*<td>\d+</td>\s*<td><img[^>]*></td>\s*<td><a[^>]*>([^<]+)<',
                          text(owner.get(url)))

    assert names("/console/products") == ["可颂", "拿铁", "旧款蛋糕"]
    assert names("/console/products?sort=name&desc=1") == sorted(["可颂", "拿铁", "旧款蛋糕"], reverse=True)
    assert names(f"/console/products?category={cat.id}") == ["可颂"]
    assert names("/console/products?category=none") == ["拿铁", "旧款蛋糕"]
    assert names("/console/products?status=unpublished") == ["旧款蛋糕"]
    assert names("/console/products?q=LAT-001") == ["拿铁"]
    csv = owner.get("/console/products.csv?status=published")
    body = csv.get_data()
    assert body.startswith("\ufeff".encode()) and "attachment" in csv.headers["Content-Disposition"]
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("id,name,category,published")
    assert [line.split(",")[1] for line in lines[1:]] == ["可颂", "拿铁"]
    assert "15.00" in lines[1] and "面包" in lines[1] and "别家吐司" not in body.decode("utf-8-sig")


def test_publish_and_unpublish_reach_the_shop(app, world, owner):
    product = make_product(world.merchant, "季节限定")
    db.session.commit()
    assert "季节限定" in shop_page(app, world, product)
    r = post(owner, f"/console/products/{product.id}/unpublish", back="/console/products?status=published")
    assert r.status_code == 302 and r.location.endswith("/console/products?status=published")
    assert app.test_client().get(f"/m/{world.merchant.slug}/p/{product.id}").status_code == 404
    r = post(owner, f"/console/products/{product.id}/publish", back="https://evil.example/")
    assert r.location.endswith(f"/console/products/{product.id}")  # only console paths are followed back
    assert "季节限定" in shop_page(app, world, product)


def test_categories_create_rename_and_move(app, world, owner):
    for name in ("咖啡", "面包", "甜点"):
        assert post(owner, "/console/categories", name=name).status_code == 302
    r = post(owner, "/console/categories", name="面包")
    assert r.status_code == 409 and "分类「面包」已存在" in text(r)
    cats = {c.name: c for c in db.session.execute(sa.select(Category)).scalars()}
    assert post(owner, f"/console/categories/{cats['咖啡'].id}", name="手冲", sort="5").status_code == 302
    page = text(owner.get("/console/categories"))
    assert 'value="手冲"' in page
    ids = [cats["甜点"].id, cats["咖啡"].id, cats["面包"].id]
    owner.post("/console/categories/order", data={"csrf_token": CSRF, "ids": [str(i) for i in ids]})
    shop = text(app.test_client().get(f"/m/{world.merchant.slug}/"))
    assert shop.index("甜点") < shop.index("手冲") < shop.index("面包")


def test_a_store_manager_reads_but_cannot_edit(app, world):
    product = make_product(world.merchant)
    db.session.commit()
    manager = console_client(app, world.manager)
    page = text(manager.get(f"/console/products/{product.id}"))
    assert "只读" in page and 'name="price"' not in page and "product_save" not in page
    assert f'action="/console/products/{product.id}"' not in page
    assert "新建商品" not in text(manager.get("/console/products"))
    assert post(manager, f"/console/skus/{product.skus[0].id}", name="x", price="1").status_code == 403
    assert product.skus[0].price_fen == 2800


def test_a_published_product_without_an_active_sku_is_flagged(app, world, owner):
    product = make_product(world.merchant)
    db.session.commit()
    assert 'data-testid="not-on-sale"' not in text(owner.get(f"/console/products/{product.id}"))
    post(owner, f"/console/skus/{product.skus[0].id}/deactivate")
    assert 'data-testid="not-on-sale"' in text(owner.get(f"/console/products/{product.id}"))
    assert app.test_client().get(f"/m/{world.merchant.slug}/p/{product.id}").status_code == 404


def test_the_list_is_paginated(app, world, owner):
    for i in range(23):
        make_product(world.merchant, f"商品{i:02d}")
    db.session.commit()
    first, second = text(owner.get("/console/products")), text(owner.get("/console/products?page=2"))
    assert first.count('data-testid="product-row"') == 20 and second.count('data-testid="product-row"') == 3
    assert "共 23 条" in first and "商品22" in second and "商品22" not in first
