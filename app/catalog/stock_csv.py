"""The stock CSV: one row per store × SKU. Exported from the console's stock table, imported back through
app.catalog.csvimport (preview, then apply in one transaction).

Columns: store_id, store_name, sku_id, sku_code, product, sku, quantity. A row names its store by store_id
(or, without it, by a store_name that is unique) and its SKU by sku_id (or, without it, by sku_code, the
merchant's 货号); product and sku are there for people and are not read. quantity is the count on hand: the
row is set to it (absolute, see app.catalog.inventory), so a file imported twice changes nothing the second
time, and an export imported back is "unchanged" on every row.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.catalog.csvimport import RowError, RowResult
from app.catalog.inventory import MAX_QUANTITY, stock_lines, write_many
from app.catalog.models import ImportUpload, Sku, StoreStock
from app.extensions import db
from app.merchants import audit
from app.merchants.models import Store
from app.merchants.scope import Scope

COLUMNS = ("store_id", "store_name", "sku_id", "sku_code", "product", "sku", "quantity")
AUDITED_ROWS = 200  # the audit event lists at most this many changed rows (with the counts of all)
AUDIT_ACTIONS = ("stock.import",)


def export_rows(scope: Scope, **filters: Any):
    query = stock_lines(scope, **filters).order_by(sa.column("store_id"), sa.column("sku_id"))
    for r in db.session.execute(query):
        yield [r.store_id, r.store_name, r.sku_id, r.sku_code, r.product, r.sku, r.quantity]


def _whole(value: str, column: str, low: int = 1, high: int = 2**31 - 1) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        if column == "quantity":
            raise RowError(column, f"应为 0 到 {MAX_QUANTITY} 之间的整数", f"must be a whole number from 0 to {MAX_QUANTITY}")
        raise RowError(column, "应为正整数", "must be a positive whole number")
    return int(value)


class StockImporter:
    kind = "stock"
    columns = COLUMNS
    required = (("store_id", "store_name"), ("sku_id", "sku_code"), ("quantity",))

    def __init__(self, scope: Scope):
        self.scope = scope

    # ------------------------------------------------------------------------------------------ check

    def check(self, rows: list[RowResult]) -> None:
        scope = self.scope
        stores = {s.id: s for s in db.session.execute(scope.select(Store)).scalars()}
        by_name: dict[str, list[int]] = {}
        for s in stores.values():
            by_name.setdefault(s.name, []).append(s.id)
        skus = db.session.execute(scope.select(Sku, Sku.id, Sku.code)).all()
        sku_ids = {i for i, _ in skus}
        by_code = {code: i for i, code in skus if code is not None}
        current = {(st, sk): q for st, sk, q in db.session.execute(
            scope.select(StoreStock, StoreStock.store_id, StoreStock.sku_id, StoreStock.quantity)
            .where(StoreStock.store_id.in_(list(stores))))}
        first_line: dict[tuple[int, int], int] = {}
        for row in rows:
            try:
                store_id = self._store(row.values, stores, by_name)
                sku_id = self._sku(row.values, sku_ids, by_code)
                quantity = _whole(row.values.get("quantity", ""), "quantity", 0, MAX_QUANTITY)
                key = (store_id, sku_id)
                if key in first_line:
                    column = "sku_id" if row.values.get("sku_id") else "sku_code"
                    raise RowError(column, f"与第 {first_line[key]} 行是同一门店的同一 SKU",
                                   f"the same store and SKU as row {first_line[key]}")
                first_line[key] = row.line
            except RowError as error:
                row.status, row.error = "error", error
                continue
            before = current.get(key)
            row.before, row.after, row.plan = before or 0, quantity, (store_id, sku_id, before)
            row.label = " ".join(v for v in (stores[store_id].name, row.values.get("sku_code", ""),
                                             row.values.get("product", ""), row.values.get("sku", "")) if v)
            row.status = ("unchanged" if (before or 0) == quantity else "created" if before is None else "updated")

    @staticmethod
    def _store(values: dict[str, str], stores: dict[int, Store], by_name: dict[str, list[int]]) -> int:
        raw_id, name = values.get("store_id", ""), values.get("store_name", "")
        if raw_id:
            store_id = _whole(raw_id, "store_id")
            if store_id not in stores:
                raise RowError("store_id", f"未找到门店 {store_id}", f"no store {store_id}")
            if name and stores[store_id].name != name:
                raise RowError("store_name", f"门店 {store_id} 的名称是「{stores[store_id].name}」",
                               f"store {store_id} is named “{stores[store_id].name}”")
            return store_id
        matches = by_name.get(name, [])
        if not name or not matches:
            raise RowError("store_name", f"未找到门店「{name}」", f"no store named “{name}”")
        if len(matches) > 1:
            raise RowError("store_name", "有多家门店叫这个名字，请填写 store_id",
                           "several stores have this name; give store_id")
        return matches[0]

    @staticmethod
    def _sku(values: dict[str, str], sku_ids: set[int], by_code: dict[str, int]) -> int:
        raw_id, code = values.get("sku_id", ""), values.get("sku_code", "")
        if raw_id:
            sku_id = _whole(raw_id, "sku_id")
            if sku_id not in sku_ids:
                raise RowError("sku_id", f"未找到 SKU {sku_id}", f"no SKU {sku_id}")
            if code and by_code.get(code) != sku_id:
                raise RowError("sku_code", f"货号 {code} 不是 SKU {sku_id} 的", f"the code {code} is not SKU {sku_id}'s")
            return sku_id
        if not code or code not in by_code:
            raise RowError("sku_code", f"未找到货号「{code}」", f"no SKU with the code “{code}”")
        return by_code[code]

    # ------------------------------------------------------------------------------------------ apply

    def apply_rows(self, rows: list[RowResult]) -> None:
        changes = write_many([(*row.plan, row.after) for row in rows])
        for row, change in zip(rows, changes):
            row.before, row.after = change.before, change.after

    def record(self, rows: list[RowResult], upload: ImportUpload) -> None:
        changed = [r for r in rows if r.status in ("created", "updated")]
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        audit.record(self.scope, "stock.import", "import_upload", upload.id,
                     before={f"{r.plan[0]}:{r.plan[1]}": r.before for r in changed[:AUDITED_ROWS]},
                     after={"file": upload.filename, "sha256": upload.sha256, **counts,
                            **{f"{r.plan[0]}:{r.plan[1]}": r.after for r in changed[:AUDITED_ROWS]}})
