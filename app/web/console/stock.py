"""Stock per store: the SKU × store table (filter, sort, page, CSV), inline edits (htmx), CSV import with a
preview. A store manager: their own store (app.catalog.inventory registers the scope rules)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, redirect, render_template, request, url_for

from app.catalog import inventory
from app.catalog.models import Category
from app.catalog.stock_csv import COLUMNS, StockImporter, export_rows
from app.core.database import rollback
from app.core.errors import BadRequest
from app.core.i18n import N_
from app.extensions import db
from app.merchants.models import Store
from app.merchants.permissions import Action, Area
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.imports import ImportPages
from app.web.console.listing import csv_response, paginate, visible_stores
from app.web.limits import accepts_uploads

SORTS = ("product", "sku_code", "store_id", "quantity")


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and int(value) < 2**31 else None


def _filters() -> dict:
    return {"store_id": _int(request.args.get("store")), "category_id": _int(request.args.get("category")),
            "text": request.args.get("q", "").strip()[:60], "low": request.args.get("low") == "1"}


@bp.get("/stock")
@console_view(Area.STOCK)
def stock():
    lines = inventory.stock_lines(scope(), **_filters()).subquery()
    sorts = {name: lines.c[name] for name in SORTS} | {"id": lines.c.sku_id}
    page = paginate(sa.select(lines), sorts, "product", scalars=False, tiebreak=[lines.c.store_id])
    categories = db.session.execute(scope().select(Category).order_by(Category.sort, Category.id)).scalars().all()
    return render_template("console/stock.html", page=page, stores=visible_stores(), categories=categories)


@bp.get("/stock.csv")
@console_view(Area.STOCK)
def stock_csv():
    return csv_response("stock.csv", COLUMNS, export_rows(scope(), **_filters()))


@bp.post("/stock/<id:store_id>/<id:sku_id>")
@console_view(Area.STOCK, Action.EDIT)
def stock_set(store_id: int, sku_id: int):
    """One cell: htmx swaps in the answer (the new figure, or the refusal beside the field)."""
    error = change = None
    try:
        quantity = _int(request.form.get("quantity"))
        if quantity is None:
            raise inventory.BadQuantity(field="quantity", max=inventory.MAX_QUANTITY)
        change = inventory.set_stock(scope(), store_id, sku_id, quantity, seen=_int(request.form.get("seen")))
    except BadRequest as exc:
        rollback()
        error = exc.message(g.lang)
        scope().get(Store, store_id)  # another store's cell stays not found
        inventory.scoped_sku(scope(), sku_id)
    if request.headers.get("HX-Request") != "true":
        if error:
            raise BadRequest(field="quantity", zh=error, en=error)
        return redirect(url_for("console.stock", **request.args))
    quantity = change.after if change else inventory.on_hand(store_id, sku_id) or 0
    typed = request.form.get("quantity", "")
    # Orders took (or a cancellation returned) stock since the page was drawn: the figure is not what was typed.
    moved = change is not None and change.after != _int(typed)
    return render_template("console/_stock_cell.html", store_id=store_id, sku_id=sku_id, quantity=quantity,
                           change=change, error=error, typed=typed, moved=moved)


# ------------------------------------------------------------------------------------------------- import

IMPORT = ImportPages(
    importer=StockImporter, kind=StockImporter.kind, columns=COLUMNS, title=N_("导入库存"),
    intro=N_("先导出库存 CSV，修改 quantity 列后上传：每行按 store_id（或唯一的门店名称）和 sku_id（或货号 sku_code）"
             "找到库存，数量设为 quantity。上传后先预览，确认无误再导入；整个文件一次导入，有错误的行须修正或排除。"),
    back_endpoint="console.stock", preview_endpoint="console.stock_import_preview",
    apply_endpoint="console.stock_import_apply")


@bp.route("/stock/import", methods=["GET", "POST"])
@accepts_uploads
@console_view(Area.STOCK, Action.EDIT)
def stock_import():
    return IMPORT.upload()


@bp.get("/stock/imports/<id:upload_id>")
@console_view(Area.STOCK, Action.EDIT)
def stock_import_preview(upload_id: int):
    return IMPORT.preview(upload_id)


@bp.post("/stock/imports/<id:upload_id>/apply")
@console_view(Area.STOCK, Action.EDIT)
def stock_import_apply(upload_id: int):
    return IMPORT.apply(upload_id)
