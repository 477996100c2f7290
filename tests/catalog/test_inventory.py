"""Setting stock: absolute and over what was seen, never below 0, audited, scoped; an order that gets in
between a read and the write is not lost (compare-and-set)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog import inventory
from app.catalog.models import StoreStock
from app.core.database import commit
from app.core.errors import NotFound
from app.extensions import db
from app.merchants.models import AuditEvent
from app.merchants.scope import Scope
from app.orders import service as orders
from app.payments.models import PayMethod
from tests.support.factories import make_member, make_product


@pytest.fixture
def shop(world):
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500), ("大杯", 3200, None)),
                           stock={world.store: 10})
    other = make_product(world.other_merchant, "别家吐司", (("整条", 1800, None),))
    commit()
    return world, product, other


def qty(store, sku) -> int | None:
    return db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store.id, StoreStock.sku_id == sku.id)).scalar()


def test_set_absolute_records_before_and_after(shop):
    world, product, _ = shop
    sku = product.skus[0]
    change = inventory.set_stock(Scope.of(world.owner), world.store.id, sku.id, 25)
    assert (change.before, change.after, change.status) == (10, 25, "updated")
    assert qty(world.store, sku) == 25
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "stock.set")).scalar_one()
    assert (event.object_id, event.before, event.after) == (sku.id, {"store_id": world.store.id, "quantity": 10},
                                                            {"store_id": world.store.id, "quantity": 25})
    again = inventory.set_stock(Scope.of(world.owner), world.store.id, sku.id, 25)
    assert again.status == "unchanged"
    assert db.session.execute(sa.select(sa.func.count()).where(AuditEvent.action == "stock.set")).scalar() == 1


def test_a_missing_row_is_created_and_zero_on_a_missing_row_is_unchanged(shop):
    world, product, _ = shop
    sku = product.skus[0]
    assert inventory.set_stock(Scope.of(world.owner), world.store_b.id, sku.id, 0).status == "unchanged"
    assert qty(world.store_b, sku) is None
    change = inventory.set_stock(Scope.of(world.owner), world.store_b.id, sku.id, 3)
    assert (change.before, change.after, change.status) == (0, 3, "created")


def test_set_over_what_was_seen_keeps_an_order_placed_meanwhile(shop):
    world, product, _ = shop
    sku = product.skus[0]
    member = make_member(world.merchant)
    # The merchant's page showed 10; a buyer takes 2 before the edit arrives; the merchant typed 15.
    orders.place_order(world.merchant, world.store, member, [orders.LineRequest(sku.id, 2)],
                       pay_method=PayMethod.STORE)
    change = inventory.set_stock(Scope.of(world.owner), world.store.id, sku.id, 15, seen=10)
    assert (change.before, change.after) == (8, 13)
    assert qty(world.store, sku) == 13
    # Typed 0 over 13 seen, after another order: 0, never below.
    orders.place_order(world.merchant, world.store, member, [orders.LineRequest(sku.id, 1)],
                       pay_method=PayMethod.STORE)
    assert inventory.set_stock(Scope.of(world.owner), world.store.id, sku.id, 0, seen=13).after == 0
    assert qty(world.store, sku) == 0


def test_the_write_reads_again_when_an_order_got_in_between(shop):
    world, product, _ = shop
    sku = product.skus[0]
    # Read 10, then an order takes 4 (the row is now 6), then the compare-and-set with the stale 10.
    stale = inventory.on_hand(world.store.id, sku.id)
    db.session.execute(sa.update(StoreStock).where(StoreStock.store_id == world.store.id, StoreStock.sku_id == sku.id)
                       .values(quantity=StoreStock.quantity - 4))
    change = inventory.write(world.store.id, sku.id, inventory.relative(20, 10), current=stale)
    assert (change.before, change.after) == (6, 16)  # the order's 4 still count
    change = inventory.write(world.store.id, sku.id, inventory.absolute(7), current=stale)
    assert (change.before, change.after) == (16, 7)


@pytest.mark.parametrize("bad", [-1, inventory.MAX_QUANTITY + 1])
def test_a_quantity_out_of_range_is_refused(shop, bad):
    world, product, _ = shop
    with pytest.raises(inventory.BadQuantity):
        inventory.set_stock(Scope.of(world.owner), world.store.id, product.skus[0].id, bad)
    assert qty(world.store, product.skus[0]) == 10


def test_scope_a_manager_their_store_and_nobody_another_merchants_sku(shop):
    world, product, other = shop
    sku = product.skus[0]
    with pytest.raises(NotFound):
        inventory.set_stock(Scope.of(world.manager), world.store_b.id, sku.id, 1)
    assert inventory.set_stock(Scope.of(world.manager), world.store.id, sku.id, 4).after == 4
    with pytest.raises(inventory.SkuNotFound):
        inventory.set_stock(Scope.of(world.owner), world.store.id, other.skus[0].id, 1)
    with pytest.raises(NotFound):
        inventory.set_stock(Scope.of(world.owner), world.other_store.id, sku.id, 1)


def test_a_batch_is_all_or_nothing_and_idempotent(shop):
    world, product, other = shop
    small, large = product.skus
    large.code = "LATTE-L"
    db.session.flush()
    items = [inventory.StockItem(quantity=7, sku_id=small.id), inventory.StockItem(quantity=2, sku_code="LATTE-L")]
    first = inventory.set_batch(world.merchant.id, world.store.id, items)
    assert [(s.id, c.before, c.after) for s, c in first] == [(small.id, 10, 7), (large.id, 10, 2)]
    second = inventory.set_batch(world.merchant.id, world.store.id, items)
    assert [c.status for _, c in second] == ["unchanged", "unchanged"]
    with pytest.raises(inventory.SkuNotFound):
        inventory.set_batch(world.merchant.id, world.store.id,
                            [inventory.StockItem(quantity=1, sku_id=small.id),
                             inventory.StockItem(quantity=1, sku_id=other.skus[0].id)])
    with pytest.raises(inventory.DuplicateSku):
        inventory.set_batch(world.merchant.id, world.store.id,
                            [inventory.StockItem(quantity=1, sku_id=large.id),
                             inventory.StockItem(quantity=3, sku_code="LATTE-L")])
    assert (qty(world.store, small), qty(world.store, large)) == (7, 2)
    with pytest.raises(inventory.StoreNotFound):
        inventory.set_batch(world.merchant.id, world.other_store.id, items)


def test_many_rows_at_once_read_again_what_an_order_changed(shop):
    world, product, _ = shop
    small, large = product.skus
    # Read: small 10, large 10, nothing at store_b. Then an order takes 3 of small before the writes.
    db.session.execute(sa.update(StoreStock).where(StoreStock.store_id == world.store.id, StoreStock.sku_id == small.id)
                       .values(quantity=StoreStock.quantity - 3))
    # Given out of (store, SKU) order, answered in the order given.
    changes = inventory.write_many([(world.store_b.id, small.id, None, 5), (world.store.id, large.id, 10, 4),
                                    (world.store.id, small.id, 10, 20), (world.store_b.id, large.id, None, 0)])
    assert [(c.store_id, c.sku_id, c.before, c.after, c.status) for c in changes] == [
        (world.store_b.id, small.id, 0, 5, "created"), (world.store.id, large.id, 10, 4, "updated"),
        (world.store.id, small.id, 7, 20, "updated"), (world.store_b.id, large.id, 0, 0, "unchanged")]
    assert (qty(world.store, small), qty(world.store, large), qty(world.store_b, small), qty(world.store_b, large)) == \
        (20, 4, 5, None)


def test_stock_rows_through_a_scope(shop):
    world, product, other = shop
    inventory.set_stock(Scope.of(world.owner), world.store_b.id, product.skus[0].id, 4)
    db.session.add(StoreStock(store_id=world.other_store.id, sku_id=other.skus[0].id, quantity=9))
    db.session.flush()

    def rows(staff):
        return sorted(db.session.execute(Scope.of(staff).select(StoreStock, StoreStock.store_id, StoreStock.sku_id)).all())

    small, large = product.skus
    assert rows(world.owner) == sorted([(world.store.id, small.id), (world.store.id, large.id),
                                        (world.store_b.id, small.id)])
    assert rows(world.manager) == sorted([(world.store.id, small.id), (world.store.id, large.id)])


def test_the_audit_filter_knows_every_stock_and_import_action():
    import re
    from pathlib import Path

    from app.catalog import product_csv, stock_csv
    from app.web.console.audit import ACTIONS

    declared = set(inventory.AUDIT_ACTIONS) | set(stock_csv.AUDIT_ACTIONS) | set(product_csv.AUDIT_ACTIONS)
    for module in (inventory, stock_csv, product_csv):
        recorded = set(re.findall(r'audit\.record\(self\.scope, "([a-z_]+\.[a-z_]+)"|audit\.record\(scope, "([a-z_]+\.[a-z_]+)"',
                                  Path(module.__file__).read_text()))
        assert {a or b for a, b in recorded} <= declared, module
    assert declared <= set(ACTIONS)
