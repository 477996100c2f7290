"""The console's stock pages: the table and its filters, inline edits, CSV export → import → unchanged, a bad
row changes nothing until excluded, the apply re-checks and runs once."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.catalog import tasks as catalog_tasks
from app.catalog.models import Category, ImportUpload, StoreStock
from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.merchants.models import AuditEvent
from tests.support.factories import make_product
from tests.web.console_support import CSRF, console_client, post


@pytest.fixture
def shop(world):
    cakes = Category(merchant_id=world.merchant.id, name="蛋糕")
    db.session.add(cakes)
    db.session.flush()
    latte = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500), ("大杯", 3200, None)),
                         stock={world.store: 10, world.store_b: 3})
    latte.skus[0].code, latte.skus[1].code = "LATTE-M", "LATTE-L"
    cake = make_product(world.merchant, "芝士蛋糕", (("块", 2600, None),), stock={world.store: 2})
    cake.category_id = cakes.id
    cake.skus[0].code = "CAKE-1"
    make_product(world.other_merchant, "别家吐司", (("整条", 1800, None),), stock={world.other_store: 9})
    commit()
    return world, latte, cake


def qty(store, sku) -> int | None:
    return db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store.id, StoreStock.sku_id == sku.id)).scalar()


def upload(client, content: str | bytes, name="stock.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post("/console/stock/import", data={"csrf_token": CSRF, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_table_lists_skus_by_store_with_filters(app, shop):
    world, latte, cake = shop
    client = console_client(app, world.owner)
    body = client.get("/console/stock").get_data(as_text=True)
    assert body.count('data-testid="stock-row"') == 6  # 3 SKUs × 2 stores (a missing row is 0)
    assert "别家吐司" not in body
    body = client.get(f"/console/stock?store={world.store.id}&low=1").get_data(as_text=True)
    assert body.count('data-testid="stock-row"') == 1 and "芝士蛋糕" in body  # 2 on hand, at or below 5
    cakes = db.session.execute(sa.select(Category.id)).scalar()
    body = client.get(f"/console/stock?category={cakes}").get_data(as_text=True)
    assert body.count('data-testid="stock-row"') == 2 and "拿铁" not in body
    body = client.get("/console/stock?q=LATTE-L&sort=quantity&desc=1").get_data(as_text=True)
    assert body.count('data-testid="stock-row"') == 2
    manager = console_client(app, world.manager).get("/console/stock").get_data(as_text=True)
    assert manager.count('data-testid="stock-row"') == 3 and world.store_b.name not in manager
    rows = console_client(app, world.manager).get("/console/stock.csv").get_data(as_text=True).splitlines()
    assert len(rows) == 4 and all(r.startswith(str(world.store.id)) for r in rows[1:])


def test_an_inline_edit_answers_the_cell_and_is_audited(app, shop):
    world, latte, _ = shop
    sku = latte.skus[0]
    client = console_client(app, world.owner)
    r = client.post(f"/console/stock/{world.store.id}/{sku.id}", data={"csrf_token": CSRF, "quantity": "12", "seen": "10"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert 'data-quantity="12"' in r.get_data(as_text=True) and "10 → 12" in r.get_data(as_text=True)
    assert qty(world.store, sku) == 12
    assert db.session.execute(sa.select(AuditEvent.action).where(AuditEvent.action == "stock.set")).scalar()
    # An order took 2 since the page showed 12: typing 20 gives 18, and the cell says why.
    db.session.execute(sa.update(StoreStock).where(StoreStock.sku_id == sku.id, StoreStock.store_id == world.store.id)
                       .values(quantity=10))
    commit()
    r = client.post(f"/console/stock/{world.store.id}/{sku.id}", data={"csrf_token": CSRF, "quantity": "20", "seen": "12"},
                    headers={"HX-Request": "true"})
    assert 'data-quantity="18"' in r.get_data(as_text=True) and 'data-testid="stock-moved"' in r.get_data(as_text=True)
    r = client.post(f"/console/stock/{world.store.id}/{sku.id}", data={"csrf_token": CSRF, "quantity": "-3", "seen": "18"},
                    headers={"HX-Request": "true"})
    assert 'data-testid="stock-error"' in r.get_data(as_text=True) and qty(world.store, sku) == 18
    # Without htmx, the form posts and comes back to the table.
    r = post(client, f"/console/stock/{world.store.id}/{sku.id}", quantity="5")
    assert r.status_code == 302 and qty(world.store, sku) == 5


def test_export_imports_back_unchanged(app, shop):
    world, latte, cake = shop
    client = console_client(app, world.owner)
    exported = client.get("/console/stock.csv")
    raw = exported.get_data()
    assert raw.startswith("\ufeff".encode()) and "拿铁".encode() in raw and "别家".encode() not in raw
    r = upload(client, raw)
    assert r.status_code == 302
    preview = client.get(r.location).get_data(as_text=True)
    assert "不变 6" in preview and "错误 0" in preview
    upload_id = int(r.location.rsplit("/", 1)[1])
    r = post(client, f"/console/stock/imports/{upload_id}/apply")
    assert r.status_code == 200 and 'data-testid="import-applied"' in r.get_data(as_text=True)
    assert (qty(world.store, latte.skus[0]), qty(world.store_b, cake.skus[0])) == (10, None)
    assert db.session.execute(sa.select(AuditEvent.after).where(AuditEvent.action == "stock.import")).scalar()["unchanged"] == 6


def test_a_bad_row_changes_nothing_until_it_is_excluded(app, shop):
    world, latte, cake = shop
    client = console_client(app, world.owner)
    csv_text = ("sku_code,store_name,quantity\n"
                f"LATTE-M,{world.store.name},20\n"
                f"LATTE-L,{world.store_b.name},7\n"
                f"CAKE-1,{world.store.name},many\n"  # row 4: quantity
                f"NOPE,{world.store.name},1\n"  # row 5: sku_code
                f"CAKE-1,{world.other_store.name},1\n")  # row 6: another merchant's store
    r = upload(client, csv_text)
    upload_id = int(r.location.rsplit("/", 1)[1])
    preview = client.get(r.location).get_data(as_text=True)
    assert "更新 2" in preview and "错误 3" in preview
    for line, column in ((4, "quantity"), (5, "sku_code"), (6, "store_name")):
        assert f"<td>{line}</td><td>{column}</td>" in preview
    assert 'data-testid="import-apply"' not in preview
    r = post(client, f"/console/stock/imports/{upload_id}/apply")
    assert r.status_code == 409
    assert (qty(world.store, latte.skus[0]), qty(world.store_b, latte.skus[1])) == (10, 3)
    # Excluding only two of the three is still refused; all three: applied, in one go.
    r = client.post(f"/console/stock/imports/{upload_id}/apply", data={"csrf_token": CSRF, "exclude": ["4", "5"]})
    assert r.status_code == 409 and qty(world.store, latte.skus[0]) == 10
    preview = client.get(f"/console/stock/imports/{upload_id}?exclude=4&exclude=5&exclude=6").get_data(as_text=True)
    assert 'data-testid="import-apply"' in preview and "已排除 3" in preview
    r = client.post(f"/console/stock/imports/{upload_id}/apply", data={"csrf_token": CSRF, "exclude": ["4", "5", "6"]})
    assert r.status_code == 200
    assert (qty(world.store, latte.skus[0]), qty(world.store_b, latte.skus[1])) == (20, 7)
    # A second apply (a double click) is refused, not run twice.
    r = client.post(f"/console/stock/imports/{upload_id}/apply", data={"csrf_token": CSRF, "exclude": ["4", "5", "6"]})
    assert r.status_code == 409


def test_the_apply_checks_again_and_reads_the_kept_file(app, shop):
    world, latte, _ = shop
    client = console_client(app, world.owner)
    r = upload(client, f"sku_id,store_id,quantity\n{latte.skus[0].id},{world.store.id},4\n")
    upload_id = int(r.location.rsplit("/", 1)[1])
    assert "更新 1" in client.get(r.location).get_data(as_text=True)
    # The SKU's code changes hands between the preview and the apply: nothing the browser sends matters.
    stored = db.session.get(ImportUpload, upload_id)
    assert stored.content.startswith(b"sku_id") and len(stored.sha256) == 64
    r = client.post(f"/console/stock/imports/{upload_id}/apply",
                    data={"csrf_token": CSRF, "quantity": "999", "rows": "whatever"})
    assert r.status_code == 200 and qty(world.store, latte.skus[0]) == 4


def test_a_manager_imports_only_their_store(app, shop):
    world, latte, _ = shop
    client = console_client(app, world.manager)
    r = upload(client, f"sku_code,store_id,quantity\nLATTE-M,{world.store.id},6\nLATTE-M,{world.store_b.id},6\n")
    preview = client.get(r.location).get_data(as_text=True)
    assert "错误 1" in preview and 'data-line="3"' in preview
    assert console_client(app, world.owner).get(r.location).status_code == 200  # the owner sees every upload
    other = console_client(app, world.cashier)
    assert other.get(r.location).status_code == 403


@pytest.mark.parametrize("content, words", [
    (b"", "请选择 CSV 文件"),
    (b"foo,bar\n1,2\n", "缺少列"),
    ("sku_code,store_name,quantity\nLATTE-M,国贸店,3\n".encode("gb18030"), "更新 1"),  # Excel's GBK is read
])
def test_unreadable_files_are_refused_whole(app, shop, content, words):
    world, *_ = shop
    client = console_client(app, world.owner)
    r = upload(client, content)
    if r.status_code == 302:
        r = client.get(r.location)
    assert words in r.get_data(as_text=True)


def test_uploads_are_forgotten_after_a_week(app, shop, frozen):
    """The daily job deletes kept CSV uploads older than a week, applied or not; newer ones stay."""
    world, latte, _cake = shop
    csv = "sku_code,store_id,quantity\nLATTE-M,%d,{n}\n" % world.store.id
    assert upload(console_client(app, world.owner), csv.format(n=4)).status_code == 302
    old = db.session.execute(sa.select(ImportUpload.id)).scalars().all()
    assert len(old) == 1
    clock.advance(timedelta(days=6))
    assert upload(console_client(app, world.owner), csv.format(n=5)).status_code == 302
    assert catalog_tasks.forget_old_uploads() == 0
    clock.advance(timedelta(days=1, minutes=1))
    assert catalog_tasks.forget_old_uploads() == 1
    left = db.session.execute(sa.select(ImportUpload.id)).scalars().all()
    assert len(left) == 1 and left[0] not in old
