"""The catalog for integrators (merchant key): products with SKUs, and stock per store set in batches."""
from __future__ import annotations

from flask import g, jsonify, request

from app.catalog import inventory
from app.catalog.exports import product_json, products_page
from app.catalog.stock_schemas import ProductsQuery, StockBatchInput
from app.core.schemas import parse
from app.merchants.models import KeyKind
from app.web.api import bp
from app.web.auth import key_required


@bp.get("/products")
@key_required(KeyKind.MERCHANT)
def list_products():
    query = parse(ProductsQuery, {k: request.args.get(k) for k in ("page", "per_page") if k in request.args})
    total, products = products_page(g.principal.merchant_id, query.page, query.per_page)
    return jsonify({"products": [product_json(p) for p in products], "page": query.page,
                    "per_page": query.per_page, "total": total})


@bp.put("/stores/<id:store_id>/stock")
@key_required(KeyKind.MERCHANT)
def put_stock(store_id: int):
    """Absolute counts, all lines or none; the same batch again changes nothing (and says so)."""
    batch = parse(StockBatchInput, request.get_json(silent=True))
    items = [inventory.StockItem(quantity=i.quantity, sku_id=i.sku_id, sku_code=i.sku_code) for i in batch.items]
    results = inventory.set_batch(g.principal.merchant_id, store_id, items)
    changed = [{"sku_id": sku.id, "sku_code": sku.code, "before": c.before, "after": c.after}
               for sku, c in results if c.status != "unchanged"]
    return jsonify({"store_id": store_id, "changed": changed, "unchanged": len(results) - len(changed)})
