"""The product CSV (one row per SKU): export, and import with a preview, written through app.catalog.editing."""
from __future__ import annotations

from app.catalog.product_csv import COLUMNS, ProductImporter, export_rows
from app.core.i18n import N_
from app.merchants.permissions import Action, Area
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.imports import ImportPages
from app.web.console.listing import csv_response
from app.web.limits import accepts_uploads

IMPORT = ImportPages(
    importer=ProductImporter, kind=ProductImporter.kind, columns=COLUMNS, title=N_("导入商品"),
    intro=N_("先导出商品与 SKU 的 CSV，修改后上传：每行一个 SKU，按 sku_id 或货号 sku_code 找到（新货号即新增 SKU，"
             "商品按名称找到或新建）；价格以元为单位；同一商品的各行须一致。上传后先预览，确认无误再导入；"
             "整个文件一次导入，有错误的行须修正或排除。"),
    back_endpoint="console.products", preview_endpoint="console.products_import_preview",
    apply_endpoint="console.products_import_apply", id_arg="import_id")


@bp.get("/products/skus.csv")
@console_view(Area.PRODUCTS)
def products_skus_csv():
    return csv_response("products-skus.csv", COLUMNS, export_rows(scope()))


@bp.route("/products/import", methods=["GET", "POST"])
@accepts_uploads
@console_view(Area.PRODUCTS, Action.EDIT)
def products_import():
    return IMPORT.upload()


@bp.get("/products/imports/<id:import_id>")
@console_view(Area.PRODUCTS, Action.EDIT)
def products_import_preview(import_id: int):
    return IMPORT.preview(import_id)


@bp.post("/products/imports/<id:import_id>/apply")
@console_view(Area.PRODUCTS, Action.EDIT)
def products_import_apply(import_id: int):
    return IMPORT.apply(import_id)
