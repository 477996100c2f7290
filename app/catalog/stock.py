"""Stock on hand at a store, as the cart reads it, and the cart's refusal when a shopper asks for more.

Nothing here reserves: stock is taken atomically when an order is placed (orders.service). What the cart
reads is a hint, worded so the shopper knows what is left."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Sku, StoreStock
from app.core.errors import DomainError
from app.extensions import db
from app.merchants.models import Store


def units_at(store: Store, sku_id: int) -> int:
    """Units on hand at the store now (no row: none). Read, not reserved."""
    return db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store.id, StoreStock.sku_id == sku_id)).scalar_one_or_none() or 0



class ExceedsStock(DomainError):
    """More than the store has on hand: the cart is left as it was. `available` is the units on hand
    (0: sold out), `in_cart` what the cart already holds of this SKU at this store."""
    code, status = "exceeds_stock", 409
    zh = "{product}：本店仅剩 {available} 件。"
    en = "{product}: only {available} left at this store."


def exceeds_stock(sku: Sku, store: Store, available: int, in_cart: int, *, here: bool = True) -> ExceedsStock:
    """The refusal, worded for the cart page it is shown on: "本店" is the cart's store (`here`), otherwise
    the store is named (adding from another store's product page, before the cart switches store)."""
    zh_at, en_at = ("本店", "at this store") if here else ("「{store_name}」", "at {store_name}")
    if available <= 0:
        zh, en = f"{{product}}：{zh_at}已售罄。", f"{{product}} is sold out {en_at}."
    elif in_cart > 0:
        zh = f"{{product}}：{zh_at}仅剩 {{available}} 件，购物车里已有 {{in_cart}} 件。"
        en = f"{{product}}: only {{available}} left {en_at}, and your cart already holds {{in_cart}}."
    else:
        zh, en = f"{{product}}：{zh_at}仅剩 {{available}} 件。", f"{{product}}: only {{available}} left {en_at}."
    return ExceedsStock(zh=zh, en=en, product=f"{sku.product.name}（{sku.name}）", available=max(0, available),
                        in_cart=in_cart, sku_id=sku.id, store_id=store.id, store_name=store.name)
