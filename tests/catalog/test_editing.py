"""The console's catalog edits (app.catalog.editing): scoped, audited, through the ORM (the catalog rev
changes), with clear refusals."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog import editing
from app.catalog.models import Category, Product, Sku
from app.catalog.schemas import CategoryInput, ProductInput, SkuInput
from app.core.errors import DomainError, NotFound
from app.core.schemas import parse
from app.extensions import db
from app.merchants.models import AuditEvent, Merchant
from app.merchants.scope import Scope
from tests.support.factories import make_product


@pytest.fixture
def owner(world):
    return Scope.of(world.owner, "10.0.0.1")


@pytest.fixture
def other(world):
    from tests.support.factories import make_staff
    from app.merchants.models import Role

    return Scope.of(make_staff(world.other_merchant, "other_boss", Role.OWNER))


def _rev(merchant) -> int:
    return db.session.execute(sa.select(Merchant.catalog_rev).where(Merchant.id == merchant.id)).scalar_one()


def _audit(action: str) -> list[AuditEvent]:
    return db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)).scalars().all()


def _sku_form(**kw) -> SkuInput:
    data = {"name": "中杯", "price": "28.00", **kw}
    return parse(SkuInput, data)


def test_create_product_with_a_sku_changes_the_rev_and_is_audited(world, owner):
    rev = _rev(world.merchant)
    cat = editing.create_category(owner, CategoryInput(name="咖啡", sort=1))
    product = editing.create_product(owner, parse(ProductInput, {"name": "燕麦拿铁", "category_id": str(cat.id),
                                                                 "description": "燕麦奶", "active": "on"}))
    sku = editing.create_sku(owner, product.id, _sku_form(code="LAT-OAT-M", member_price="25.5"))
    assert (sku.price_fen, sku.member_price_fen, sku.merchant_id) == (2800, 2550, world.merchant.id)
    assert product.active and product.category_id == cat.id and product.merchant_id == world.merchant.id
    assert _rev(world.merchant) != rev
    created = _audit("product.create")[0]
    assert (created.object_id, created.after["name"], created.staff_id, created.ip) == \
        (product.id, "燕麦拿铁", world.owner.id, "10.0.0.1")
    assert _audit("sku.create")[0].after == {"product_id": product.id, "name": "中杯", "code": "LAT-OAT-M",
                                             "price_fen": 2800, "member_price_fen": 2550, "active": True}
    assert _audit("category.create")[0].after == {"name": "咖啡", "sort": 1}


def test_update_product_records_only_what_changed(world, owner):
    product = make_product(world.merchant)
    rev = _rev(world.merchant)
    editing.update_product(owner, product.id, ProductInput(name="拿铁 2.0", description="", active=True))
    assert _rev(world.merchant) != rev
    event = _audit("product.update")[-1]
    assert (event.before, event.after) == ({"name": "拿铁"}, {"name": "拿铁 2.0"})
    editing.update_product(owner, product.id, ProductInput(name="拿铁 2.0", description="", active=True))
    assert len(_audit("product.update")) == 1  # nothing changed: no row


def test_publish_and_unpublish(world, owner):
    product = make_product(world.merchant)
    editing.set_product_active(owner, product.id, False)
    assert not product.active and _audit("product.unpublish")[0].after == {"active": False}
    editing.set_product_active(owner, product.id, True)
    assert product.active and _audit("product.publish")[0].before == {"active": False}


def test_update_and_deactivate_a_sku(world, owner):
    product = make_product(world.merchant)
    sku = product.skus[0]
    rev = _rev(world.merchant)
    editing.update_sku(owner, sku.id, _sku_form(name="大杯", price="32", member_price="30", code="L-1"))
    assert (sku.name, sku.price_fen, sku.member_price_fen, sku.code) == ("大杯", 3200, 3000, "L-1")
    assert _rev(world.merchant) != rev
    assert _audit("sku.update")[0].before == {"name": "中杯", "code": None, "price_fen": 2800,
                                              "member_price_fen": 2500}
    rev = _rev(world.merchant)
    editing.deactivate_sku(owner, sku.id)
    assert not sku.active and _rev(world.merchant) != rev
    assert _audit("sku.deactivate")[0].after == {"active": False}
    assert editing.find_sku_by_code(owner, "L-1") is sku


def _refused(fn, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn()
    assert caught.value.code == code, caught.value.code
    assert caught.value.message("zh") and caught.value.message("en")
    return caught.value


def test_refusals(world, owner):
    product = make_product(world.merchant)
    editing.create_sku(owner, product.id, _sku_form(code="A-1"))
    err = _refused(lambda: editing.create_sku(owner, product.id, _sku_form(name="大杯", code="A-1")),
                   "duplicate_sku_code")
    assert "A-1" in err.message("en") and err.status == 409
    err = _refused(lambda: editing.create_sku(owner, product.id, _sku_form(member_price="28.01")),
                   "member_price_above_price")
    assert err.status == 400 and err.message("zh") == "会员价不能高于售价。"
    _refused(lambda: editing.create_sku(owner, product.id, _sku_form(price="-1")), "negative_price")
    _refused(lambda: editing.update_sku(owner, product.skus[0].id, _sku_form(code="A-1")), "duplicate_sku_code")
    editing.create_category(owner, CategoryInput(name="面包"))
    _refused(lambda: editing.create_category(owner, CategoryInput(name="面包")), "duplicate_category")
    bad = _refused(lambda: parse(SkuInput, {"name": "x", "price": "1.234"}), "bad_request")
    assert bad.details["field"] == "price"
    assert len(_audit("sku.create")) == 1


def test_the_same_code_at_another_merchant_is_fine(world, owner, other):
    mine = make_product(world.merchant)
    theirs = make_product(world.other_merchant, "法棍")
    editing.create_sku(owner, mine.id, _sku_form(code="B-1"))
    assert editing.create_sku(other, theirs.id, _sku_form(code="B-1")).merchant_id == world.other_merchant.id


def test_another_merchants_rows_are_not_found(world, owner, other):
    theirs = make_product(world.other_merchant, "法棍")
    cat = editing.create_category(other, CategoryInput(name="面包"))
    for fn in (lambda: editing.update_product(owner, theirs.id, ProductInput(name="x")),
               lambda: editing.set_product_active(owner, theirs.id, False),
               lambda: editing.create_sku(owner, theirs.id, _sku_form()),
               lambda: editing.update_sku(owner, theirs.skus[0].id, _sku_form()),
               lambda: editing.set_sku_active(owner, theirs.skus[0].id, False),
               lambda: editing.update_category(owner, cat.id, CategoryInput(name="y")),
               lambda: editing.create_product(owner, ProductInput(name="z", category_id=cat.id))):
        with pytest.raises(NotFound):
            fn()
    assert theirs.name == "法棍" and theirs.skus[0].price_fen == 2800


def test_a_store_manager_sees_the_whole_catalog(world):
    product = make_product(world.merchant)
    manager = Scope.of(world.manager)
    assert manager.get(Product, product.id) is product
    assert manager.get(Sku, product.skus[0].id) is product.skus[0]


def test_rename_and_sort_categories(world, owner):
    a = editing.create_category(owner, CategoryInput(name="咖啡"))
    b = editing.create_category(owner, CategoryInput(name="面包"))
    c = editing.create_category(owner, CategoryInput(name="甜点"))
    editing.update_category(owner, a.id, CategoryInput(name="手冲咖啡", sort=a.sort))
    assert _audit("category.update")[0].after == {"name": "手冲咖啡"}
    _refused(lambda: editing.update_category(owner, b.id, CategoryInput(name="手冲咖啡")), "duplicate_category")
    rev = _rev(world.merchant)
    editing.sort_categories(owner, [c.id, a.id])
    assert [x.id for x in editing.categories(owner)] == [c.id, a.id, b.id]
    assert _rev(world.merchant) != rev
    assert _audit("category.sort")[0].after == {str(c.id): 10, str(a.id): 20, str(b.id): 30}
    assert db.session.get(Category, a.id).name == "手冲咖啡"


def test_the_audit_filter_knows_every_catalog_action():
    import re
    from pathlib import Path

    from app.catalog import photos

    recorded = set()
    for module in (editing, photos):
        recorded |= set(re.findall(r'"((?:category|product|sku)\.[a-z_]+)"', Path(module.__file__).read_text()))
    assert recorded == set(editing.AUDIT_ACTIONS) | set(photos.AUDIT_ACTIONS)
