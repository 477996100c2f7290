"""The product CSV: one row per SKU, with its product's fields. Imported through app.catalog.csvimport and
written through app.catalog.editing (the same rules, audit and catalog rev as the console's product pages).

Columns: product, category, description, published, sku_id, sku_code, sku, price, member_price (yuan, as
on screen). A SKU is found by sku_id (as exported; its code may then change) or else by its code (货号); a
row with neither id nor a known code adds a SKU (a code is then required, so that the same file imported
again finds it) to the product of that name, or to a new product when the merchant has none of that name.
The rows of one product must agree on its fields. Category: an existing category's name, or empty.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import selectinload

from app.catalog import editing
from app.catalog.csvimport import RowError, RowResult
from app.catalog.models import ImportUpload, Product
from app.catalog.schemas import ProductInput, SkuInput
from app.core.errors import DomainError
from app.core.money import yuan
from app.core.schemas import parse
from app.extensions import db
from app.merchants import audit
from app.merchants.scope import Scope

COLUMNS = ("product", "category", "description", "published", "sku_id", "sku_code", "sku", "price", "member_price")
PRODUCT_COLUMNS = {"name": "product", "category_id": "category", "description": "description", "active": "published"}
SKU_COLUMNS = {"name": "sku", "code": "sku_code", "price": "price", "price_fen": "price", "member_price": "member_price",
               "member_price_fen": "member_price"}
TRUE, FALSE = ("1", "true", "yes", "是", "上架"), ("0", "false", "no", "否", "下架", "")
AUDIT_ACTIONS = ("products.import",)


def _products(scope: Scope) -> list[Product]:
    return db.session.execute(scope.select(Product).options(selectinload(Product.skus)).order_by(Product.id)
                              ).scalars().all()


def export_rows(scope: Scope):
    names = {c.id: c.name for c in editing.categories(scope)}
    for p in _products(scope):
        for s in p.skus:
            yield [p.name, names.get(p.category_id, ""), p.description, int(p.active), s.id, s.code, s.name,
                   yuan(s.price_fen), yuan(s.member_price_fen)]


def _refusal(error: DomainError, columns: dict[str, str]) -> RowError:
    column = columns.get(str(error.details.get("field", "")).split(".")[0], "")
    return RowError(column or "?", error.message("zh"), error.message("en"))


class ProductImporter:
    kind = "products"
    columns = COLUMNS
    required = (("product",), ("sku_code",), ("sku",), ("price",))

    def __init__(self, scope: Scope):
        self.scope = scope
        self.created: dict[str, int] = {}  # product name -> id of the product this apply created

    def check(self, rows: list[RowResult]) -> None:
        scope = self.scope
        categories = {c.name: c.id for c in editing.categories(scope)}
        products = _products(scope)
        by_name: dict[str, list[Product]] = {}
        for p in products:
            by_name.setdefault(p.name, []).append(p)
        skus = {s.code: s for p in products for s in p.skus if s.code}
        sku_ids = {s.id: s for p in products for s in p.skus}
        groups: dict[str, tuple[int, ProductInput]] = {}  # product name -> (first row, its fields)
        seen: dict[Any, int] = {}
        for row in rows:
            try:
                product_form, sku_form = self._forms(row.values, categories)
                sku = self._sku(row.values, sku_form, sku_ids, skus)
                self._check_unique(row, [("code", sku_form.code), ("id", sku.id if sku else None)], seen)
                name = product_form.name
                first = groups.setdefault(name, (row.line, product_form))
                if first[1] != product_form:
                    column = next(PRODUCT_COLUMNS[f] for f in ("category_id", "description", "active")
                                  if getattr(first[1], f) != getattr(product_form, f))
                    raise RowError(column, f"与第 {first[0]} 行的同一商品不一致", f"differs from row {first[0]}, the same product")
                product = self._product(name, by_name)
                if sku is not None and (product is None or sku.product_id != product.id):
                    raise RowError("sku_code", f"货号 {sku.code} 属于另一个商品", f"the code {sku.code} belongs to another product")
            except RowError as error:
                row.status, row.error = "error", error
                continue
            product_changed = product is not None and first[0] == row.line and self._differs(product, product_form)
            sku_changed = sku is None or self._differs(sku, sku_form)
            row.plan = {"name": name, "product_id": product.id if product else None, "product": product_form,
                        "product_changed": product_changed, "sku_id": sku.id if sku else None, "sku": sku_form}
            row.label = f"{name} · {sku_form.code or (sku.code if sku else '') or ''} {sku_form.name}"
            row.before = self._summary(product, sku) if sku else ""
            row.after = self._summary(product_form, sku_form)
            row.status = "created" if sku is None else "updated" if (product_changed or sku_changed) else "unchanged"

    def _forms(self, values: dict[str, str], categories: dict[str, int]) -> tuple[ProductInput, SkuInput]:
        category = values.get("category", "")
        if category and category not in categories:
            raise RowError("category", f"没有名为「{category}」的分类", f"no category named “{category}”")
        published = values.get("published", "").lower()
        if published not in TRUE + FALSE:
            raise RowError("published", "应为 1 或 0", "must be 1 or 0")
        if not values.get("sku_code") and not values.get("sku_id"):
            raise RowError("sku_code", "新 SKU 需要货号", "a new SKU needs an article code")
        try:
            product = parse(ProductInput, {"name": values.get("product", ""), "description": values.get("description", ""),
                                           "category_id": categories.get(category), "active": published in TRUE})
        except DomainError as error:
            raise _refusal(error, PRODUCT_COLUMNS) from None
        try:
            sku = parse(SkuInput, {"name": values.get("sku", ""), "code": values.get("sku_code"),
                                   "price": values.get("price", ""), "member_price": values.get("member_price", "")})
            editing.check_prices(sku.price_fen, sku.member_price_fen)
        except DomainError as error:
            raise _refusal(error, SKU_COLUMNS) from None
        return product, sku

    @staticmethod
    def _sku(values: dict[str, str], form: SkuInput, by_id: dict, by_code: dict):
        raw = values.get("sku_id", "")
        if not raw:
            return by_code.get(form.code)
        if not raw.isdigit() or int(raw) not in by_id:
            raise RowError("sku_id", f"未找到 SKU {raw}", f"no SKU {raw}")
        sku = by_id[int(raw)]
        if form.code and form.code in by_code and by_code[form.code].id != sku.id:
            raise RowError("sku_code", f"货号 {form.code} 已被其他 SKU 使用", f"the code {form.code} is used by another SKU")
        return sku

    @staticmethod
    def _check_unique(row: RowResult, keys, seen: dict[Any, int]) -> None:
        for key in keys:
            if key[1] is not None and key in seen:
                column = "sku_code" if key[0] == "code" else "sku_id"
                raise RowError(column, f"与第 {seen[key]} 行是同一 SKU", f"the same SKU as row {seen[key]}")
        for key in keys:
            if key[1] is not None:
                seen[key] = row.line

    @staticmethod
    def _product(name: str, by_name: dict[str, list[Product]]) -> Product | None:
        matches = by_name.get(name, [])
        if len(matches) > 1:
            raise RowError("product", "有多个商品叫这个名字，请先在商品页改名", "several products have this name; rename them first")
        return matches[0] if matches else None

    @staticmethod
    def _differs(row: Any, form: ProductInput | SkuInput) -> bool:
        fields = ("category_id", "description", "active") if isinstance(form, ProductInput) else \
            ("name", "code", "price_fen", "member_price_fen")
        return any(getattr(row, f) != getattr(form, f) for f in fields)

    @staticmethod
    def _summary(product: Any, sku: Any) -> str:
        member = f" / {yuan(sku.member_price_fen)}" if sku.member_price_fen is not None else ""
        return f"{sku.name} ¥{yuan(sku.price_fen)}{member}{'' if product.active else ' (下架)'}"

    def apply_rows(self, rows: list[RowResult]) -> None:
        for row in rows:
            self._apply(row)

    def _apply(self, row: RowResult) -> None:
        plan, scope = row.plan, self.scope
        product_id = plan["product_id"] or self.created.get(plan["name"])
        if product_id is None:
            product_id = self.created[plan["name"]] = editing.create_product(scope, plan["product"]).id
        elif plan["product_changed"]:
            current = db.session.get(Product, product_id)
            editing.update_product(scope, product_id, plan["product"].model_copy(update={"featured": current.featured}))
        if plan["sku_id"] is None:
            editing.create_sku(scope, product_id, plan["sku"])
        else:
            sku_form = plan["sku"]
            current_sku = next(s for s in db.session.get(Product, product_id).skus if s.id == plan["sku_id"])
            editing.update_sku(scope, plan["sku_id"], sku_form.model_copy(update={"active": current_sku.active}))

    def record(self, rows: list[RowResult], upload: ImportUpload) -> None:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        audit.record(self.scope, "products.import", "import_upload", upload.id,
                     after={"file": upload.filename, "sha256": upload.sha256, **counts})
