"""Setting stock per store: the console's inline edit, the stock CSV import and the integrator API.

Orders take stock with `quantity = quantity - n WHERE quantity >= n` (app.orders.service) at any moment, so a
set never writes a number it read earlier: each write is a compare-and-set, `UPDATE … SET quantity = :new
WHERE quantity = :current`, tried again on the value an order left when one got in between. What "set"
means:

- the console's inline edit sends the number the merchant saw (`seen`) with the one they typed: the
  difference is applied to what is there now, so an order placed meanwhile still counts (saw 10, typed 15,
  an order took 2: 13, whichever of the two came first). Never below 0.
- a CSV file and the API carry the count itself: the row becomes that number (absolute), so the same file or
  batch twice changes nothing the second time.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import sqlalchemy as sa

from app.catalog.models import Product, Sku, StoreStock
from app.catalog.service import LOW_STOCK
from app.core.database import insert_ignoring_conflict
from app.core.errors import BadRequest, Conflict, NotFound
from app.extensions import db
from app.merchants import audit
from app.merchants.models import Store
from app.merchants.scope import Scope, register

MAX_QUANTITY = 999_999
CAS_TRIES = 50
UNREAD = -1  # `write`'s current: not read yet (None means read, and no row)
AUDIT_ACTIONS = ("stock.set",)  # what the audit log's filter offers for these

# A store manager sees and sets their own store's stock (the catalog itself: app.catalog.models registers it).
register(StoreStock, lambda scope: [StoreStock.store_id == scope.store_id])


class SkuNotFound(NotFound):
    code = "sku_not_found"
    zh = "未找到该 SKU。"
    en = "No such SKU."


class StoreNotFound(NotFound):
    code = "store_not_found"
    zh = "未找到该门店。"
    en = "No such store."


class BadQuantity(BadRequest):
    code = "bad_quantity"
    zh = "库存数量应为 0 到 {max} 之间的整数。"
    en = "A stock quantity is a whole number from 0 to {max}."


class StockBusy(Conflict):
    code = "stock_busy"
    zh = "库存正在被频繁修改，请稍后重试。"
    en = "This stock is changing too often right now; try again in a moment."


@dataclass(frozen=True)
class StockChange:
    store_id: int
    sku_id: int
    before: int
    after: int
    created: bool = False  # no stock row before (a missing row is 0 on hand)

    @property
    def status(self) -> str:
        if self.before == self.after:
            return "unchanged"
        return "created" if self.created else "updated"


def check_quantity(quantity: int, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise BadQuantity(field=field, max=MAX_QUANTITY)
    return quantity


def on_hand(store_id: int, sku_id: int) -> int | None:
    """Units on hand now; None when there is no stock row."""
    return db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store_id, StoreStock.sku_id == sku_id)).scalar_one_or_none()


def write(store_id: int, sku_id: int, target: Callable[[int], int], *, current: int | None = UNREAD) -> StockChange:
    """Sets the row to `target(what is there now)` by compare-and-set, reading again after an order got in
    between. `current`: what the caller already read (None: no row), saving the first read."""
    for _ in range(CAS_TRIES):
        if current == UNREAD:
            current = on_hand(store_id, sku_id)
        new = max(0, target(current or 0))
        if current is None:
            if new == 0:
                return StockChange(store_id, sku_id, 0, 0, created=False)
            inserted = db.session.execute(insert_ignoring_conflict(
                StoreStock, {"store_id": store_id, "sku_id": sku_id, "quantity": new}, ["store_id", "sku_id"])
                .returning(StoreStock.quantity)).scalar()
            if inserted is not None:
                return StockChange(store_id, sku_id, 0, new, created=True)
        elif new == current:
            return StockChange(store_id, sku_id, current, current)
        else:
            updated = db.session.execute(
                sa.update(StoreStock)
                .where(StoreStock.store_id == store_id, StoreStock.sku_id == sku_id, StoreStock.quantity == current)
                .values(quantity=new).execution_options(synchronize_session=False)).rowcount
            if updated == 1:
                return StockChange(store_id, sku_id, current, new)
        current = UNREAD  # someone else wrote first: read again
    raise StockBusy()


def write_many(lines: list[tuple[int, int, int | None, int]]) -> list[StockChange]:
    """Absolute sets of many rows, each (store_id, sku_id, what the caller read or None, new), answered in the
    order given: the same compare-and-set as `write`, sent as one executemany per kind; a row an order changed
    since it was read is then found by reading them back (our writes hold their rows until the commit) and
    set again by `write`."""
    table = StoreStock.__table__
    # In (store, SKU) order, as orders take their rows (no deadlock between an import and a checkout).
    ordered = sorted(lines, key=lambda line: (line[0], line[1]))
    existing = [{"s": s, "k": k, "c": c, "q": q} for s, k, c, q in ordered if c is not None and c != q]
    missing = [{"store_id": s, "sku_id": k, "quantity": q} for s, k, c, q in ordered if c is None and q != 0]
    connection = db.session.connection()
    if existing:
        connection.execute(sa.update(table).where(table.c.store_id == sa.bindparam("s"), table.c.sku_id == sa.bindparam("k"),
                                                  table.c.quantity == sa.bindparam("c")).values(quantity=sa.bindparam("q")),
                           existing)
    if missing:
        params = {name: sa.bindparam(name) for name in ("store_id", "sku_id", "quantity")}
        connection.execute(insert_ignoring_conflict(StoreStock, params, ["store_id", "sku_id"]), missing)
    stores = sorted({s for s, *_ in lines})
    now = {(s, k): q for s, k, q in connection.execute(
        sa.select(table.c.store_id, table.c.sku_id, table.c.quantity).where(table.c.store_id.in_(stores)))}
    changes = []
    for s, k, c, q in lines:
        if now.get((s, k), 0) == q:
            changes.append(StockChange(s, k, c or 0, q, created=c is None and q != 0))
        else:  # an order got in between the read and the write: read it again, one row at a time
            changes.append(write(s, k, absolute(q)))
    return changes


def absolute(quantity: int) -> Callable[[int], int]:
    return lambda _current: quantity


def relative(quantity: int, seen: int) -> Callable[[int], int]:
    """What the merchant typed over what they saw, applied to what is there now."""
    return lambda current: current + quantity - seen


# ----------------------------------------------------------------------------------------------- console

def stock_lines(scope: Scope, *, store_id: int | None = None, category_id: int | None = None, text: str = "",
                low: bool = False) -> sa.Select:
    """Every SKU of the merchant × every store in scope, with the units on hand (0 without a row): the
    console's stock table and its CSV. Columns: store_id, store_name, sku_id, sku_code, product, sku,
    quantity, product_id."""
    quantity = sa.func.coalesce(StoreStock.quantity, 0)
    query = (sa.select(Store.id.label("store_id"), Store.name.label("store_name"), Sku.id.label("sku_id"),
                       Sku.code.label("sku_code"), Product.name.label("product"), Sku.name.label("sku"),
                       quantity.label("quantity"), Product.id.label("product_id"))
             .select_from(Sku).join(Product, Product.id == Sku.product_id).join(Store, sa.true())
             .outerjoin(StoreStock, (StoreStock.store_id == Store.id) & (StoreStock.sku_id == Sku.id))
             .where(*scope.where(Sku), *scope.where(Store)))
    if store_id is not None:
        query = query.where(Store.id == store_id)
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    if text:
        query = query.where(Product.name.contains(text) | Sku.name.contains(text) | Sku.code.contains(text))
    if low:
        query = query.where(quantity <= LOW_STOCK)
    return query


def scoped_sku(scope: Scope, sku_id: int) -> Sku:
    try:
        return scope.get(Sku, sku_id)
    except NotFound:
        raise SkuNotFound(sku_id=sku_id) from None


def set_stock(scope: Scope, store_id: int, sku_id: int, quantity: int, *, seen: int | None = None) -> StockChange:
    """The console's edit of one cell: `quantity` over `seen` (see the module's note), or absolute when the
    caller saw nothing. A store manager: their own store only (another store is NotFound)."""
    store = scope.get(Store, store_id)
    sku = scoped_sku(scope, sku_id)
    check_quantity(quantity)
    if seen is not None:
        check_quantity(seen, "seen")
    change = write(store.id, sku.id, absolute(quantity) if seen is None else relative(quantity, seen))
    if change.status != "unchanged":
        audit.record(scope, "stock.set", "sku", sku.id, before={"store_id": store.id, "quantity": change.before},
                     after={"store_id": store.id, "quantity": change.after})
    return change


# --------------------------------------------------------------------------------------- integrator API

@dataclass(frozen=True)
class StockItem:
    """One line of an API batch: the SKU by id or by code (货号), and the count."""
    quantity: int
    sku_id: int | None = None
    sku_code: str | None = None


class DuplicateSku(BadRequest):
    code = "duplicate_sku"
    zh = "同一 SKU 在本批中出现了多次（第 {index} 项）。"
    en = "The same SKU appears more than once in this batch (item {index})."


def set_batch(merchant_id: int, store_id: int, items: Iterable[StockItem]) -> list[tuple[Sku, StockChange]]:
    """All lines or none: every SKU is found (the merchant's, by id or code) before anything is written; the
    rows are then set in SKU order (as orders lock them). Each line's result, in the batch's order."""
    store = db.session.execute(sa.select(Store).where(Store.id == store_id, Store.merchant_id == merchant_id)
                               ).scalar_one_or_none()
    if store is None:
        raise StoreNotFound(store_id=store_id)
    items = list(items)
    ids = {i.sku_id for i in items if i.sku_id is not None}
    codes = {i.sku_code for i in items if i.sku_id is None}
    skus = db.session.execute(sa.select(Sku).where(
        Sku.merchant_id == merchant_id, sa.or_(Sku.id.in_(ids), Sku.code.in_(codes)))).scalars().all()
    by_id, by_code = {s.id: s for s in skus}, {s.code: s for s in skus if s.code is not None}
    resolved: list[Sku] = []
    seen: set[int] = set()
    for index, item in enumerate(items):
        sku = by_id.get(item.sku_id) if item.sku_id is not None else by_code.get(item.sku_code)
        if sku is None:
            named = {"sku_id": item.sku_id} if item.sku_id is not None else {"sku_code": item.sku_code}
            raise SkuNotFound(index=index, field=f"items.{index}", **named)
        if sku.id in seen:
            raise DuplicateSku(index=index, field=f"items.{index}", sku_id=sku.id)
        seen.add(sku.id)
        check_quantity(item.quantity, f"items.{index}.quantity")
        resolved.append(sku)
    current = dict(db.session.execute(sa.select(StoreStock.sku_id, StoreStock.quantity).where(
        StoreStock.store_id == store.id, StoreStock.sku_id.in_(seen))).all())
    changes = {sku.id: write(store.id, sku.id, absolute(item.quantity), current=current.get(sku.id))
               for sku, item in sorted(zip(resolved, items), key=lambda pair: pair[0].id)}
    return [(sku, changes[sku.id]) for sku in resolved]
