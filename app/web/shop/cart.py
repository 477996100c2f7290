"""The cart: one store per merchant at a time, kept in the Flask session.

session["carts"] = {"<merchant_id>": {"store": <store_id>, "lines": [[sku_id, quantity], ...]}}

立即购买 (buy now) does not touch the cart: it keeps that one item as a basket of its own,
session["buy_now"] = {"<token>": {"m": merchant_id, "store": store_id, "lines": [[sku_id, quantity]]}}, and
checkout?buy=<token> checks out that basket alone (as the big shops do); placing the order uses it up.

Nothing is reserved here: stock is taken atomically when the order is placed (orders.service.place_order).
The cart refuses to add more than the store has on hand at that moment (`app.catalog.stock`), which is only a
hint: someone else may buy the last one before checkout, so a line can still end up short; the cart then
warns and checkout refuses with out_of_stock.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import redirect, render_template, request, session, url_for
from sqlalchemy.orm import selectinload

from app.catalog.models import Product, Sku, StoreStock
from app.catalog.stock import exceeds_stock, units_at
from app.core.database import rollback
from app.core.errors import BadRequest, DomainError, NotFound
from app.core.i18n import current_lang
from app.extensions import db
from app.merchants.models import Merchant, Store
from app.orders.service import MAX_QUANTITY
from app.pricing import Quote, QuoteLine, quote
from app.web.converters import parse_id
from app.web.errors import render_error, wants_json
from app.web.shop import bp
from app.web.shop.session import current_member, merchant_by_slug


# ---------------------------------------------------------------------------------------------- session

def cart_of(merchant_id: int) -> dict:
    """{"store": id or None, "lines": [[sku_id, qty], ...]} — a copy; save with save_cart."""
    raw = (session.get("carts") or {}).get(str(merchant_id)) or {}
    lines = []
    for pair in raw.get("lines") or []:
        try:
            sku_id, qty = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        if qty > 0:
            lines.append([sku_id, min(qty, MAX_QUANTITY)])
    return {"store": raw.get("store"), "lines": lines}


def save_cart(merchant_id: int, cart: dict) -> None:
    carts = dict(session.get("carts") or {})
    carts[str(merchant_id)] = {"store": cart.get("store"), "lines": [l for l in cart["lines"] if l[1] > 0]}
    session["carts"] = carts


def clear_cart(merchant_id: int, *, keep_store: bool = True) -> None:
    cart = cart_of(merchant_id)
    save_cart(merchant_id, {"store": cart["store"] if keep_store else None, "lines": []})


BUY_NOW_KEY = "buy_now"
BUY_NOW_MAX = 5  # a few product tabs may be at checkout at once; older buy-nows are forgotten


def start_buy_now(merchant_id: int, store_id: int, sku_id: int, quantity: int) -> str:
    """Keeps a one-item basket for checkout?buy=<token>, beside the cart; returns its token."""
    token = secrets.token_urlsafe(9)
    baskets = {k: v for k, v in (session.get(BUY_NOW_KEY) or {}).items() if isinstance(v, dict)}
    baskets[token] = {"m": merchant_id, "store": store_id, "lines": [[sku_id, quantity]]}
    session[BUY_NOW_KEY] = dict(list(baskets.items())[-BUY_NOW_MAX:])
    return token


def buy_now_of(merchant_id: int, token: str) -> dict | None:
    """The buy-now basket `token` as a cart ({"store", "lines"}), or None when unknown or used up."""
    raw = (session.get(BUY_NOW_KEY) or {}).get(token) if token else None
    if not isinstance(raw, dict) or raw.get("m") != merchant_id:
        return None
    cart = {"store": raw.get("store"), "lines": []}
    for pair in raw.get("lines") or []:
        try:
            sku_id, qty = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        if 0 < qty <= MAX_QUANTITY:
            cart["lines"].append([sku_id, qty])
    return cart


def end_buy_now(token: str) -> None:
    baskets = dict(session.get(BUY_NOW_KEY) or {})
    baskets.pop(token, None)
    session[BUY_NOW_KEY] = baskets


def cart_count(merchant_id: int) -> int:
    return sum(q for _, q in cart_of(merchant_id)["lines"])


# ---------------------------------------------------------------------------------------------- reading

def store_of(merchant: Merchant, store_id) -> Store:
    row_id = parse_id(store_id)
    store = db.session.get(Store, row_id) if row_id else None
    if store is None or store.merchant_id != merchant.id or not store.active:
        raise NotFound(zh="门店不存在或已停业。", en="This store is not available.")
    return store


def sku_of(merchant: Merchant, sku_id) -> Sku:
    row_id = parse_id(sku_id)
    sku = db.session.get(Sku, row_id) if row_id else None
    if sku is None or not sku.active or sku.product.merchant_id != merchant.id or not sku.product.active:
        raise NotFound(zh="商品不存在或已下架。", en="This product is not sold any more.")
    return sku


def quantity_of(value, *, allow_zero: bool = False) -> int:
    try:
        qty = int(value)
    except (TypeError, ValueError):
        raise BadRequest(field="quantity", zh="数量有误。", en="Wrong quantity.") from None
    low = 0 if allow_zero else 1
    if qty < low or qty > MAX_QUANTITY:
        raise BadRequest(field="quantity", zh=f"数量须在 1 到 {MAX_QUANTITY} 之间。",
                         en=f"Quantity must be 1 to {MAX_QUANTITY}.")
    return qty


@dataclass
class CartLine:
    sku: Sku
    quantity: int
    price: QuoteLine  # this line of the cart's quote
    stock: int

    @property
    def product(self) -> Product:
        return self.sku.product

    @property
    def unit_price_fen(self) -> int:
        """What one unit costs this shopper: the member price when signed in."""
        return self.price.unit_fen

    @property
    def list_price_fen(self) -> int:
        return self.price.list_unit_fen

    @property
    def list_total_fen(self) -> int:
        return self.price.list_total_fen

    @property
    def total_fen(self) -> int:
        return self.price.payable_fen

    @property
    def short(self) -> bool:
        return self.stock < self.quantity


@dataclass(frozen=True)
class PricedCart:
    lines: list[CartLine]
    quote: Quote  # the totals and the breakdown (商品金额, discounts by kind, 应付)


def priced_cart(merchant: Merchant, store: Store | None, cart: dict, *, member) -> PricedCart:
    """The cart's lines priced by the quote for `member` (the signed-in Member, or None), with the store's
    stock; lines no longer sold are dropped."""
    ids = [sku_id for sku_id, _ in cart["lines"]]
    if not ids:
        return PricedCart([], quote((), member=member))
    skus = {s.id: s for s in db.session.execute(
        sa.select(Sku).join(Product).where(Sku.id.in_(ids), Product.merchant_id == merchant.id,
                                           Sku.active.is_(True), Product.active.is_(True))
        .options(selectinload(Sku.product))).scalars()}
    stock = {}
    if store is not None:
        stock = dict(db.session.execute(sa.select(StoreStock.sku_id, StoreStock.quantity).where(
            StoreStock.store_id == store.id, StoreStock.sku_id.in_(ids))).all())
    sold = [(skus[sku_id], qty) for sku_id, qty in cart["lines"] if sku_id in skus]
    quoted = quote(sold, member=member)
    return PricedCart([CartLine(sku, qty, price, stock.get(sku.id, 0)) for (sku, qty), price in zip(sold, quoted.lines)],
                      quoted)


# ---------------------------------------------------------------------------------------------- views

def _cart_page(merchant: Merchant, *, switch_to: Store | None = None, added: int | None = None,
               error: dict | None = None, status: int = 200):
    member = current_member(merchant.id)
    current = cart_of(merchant.id)
    store = db.session.get(Store, current["store"]) if current["store"] else None
    if store is not None and (store.merchant_id != merchant.id or not store.active):
        store = None
    priced = priced_cart(merchant, store, current, member=member)
    return render_template("shop/cart.html", merchant=merchant, store=store, lines=priced.lines, member=member,
                           switch_to=switch_to, total_fen=priced.quote.payable_fen,
                           list_total_fen=priced.quote.list_total_fen,
                           added=added, error=error, count=cart_count(merchant.id)), status


def _refused(merchant: Merchant, err: DomainError):
    """A refusal that leaves the cart as it was: the JSON envelope for XHR/API callers (as everywhere,
    app.web.errors), otherwise the cart page with the reason on top, so the shopper sees what is in it."""
    rollback()
    if wants_json():
        return render_error(err)
    return _cart_page(merchant, error=err.to_dict(current_lang()), status=err.status)


@bp.post("/m/<slug>/cart/add")
def cart_add(slug: str):
    merchant = merchant_by_slug(slug)
    store = store_of(merchant, request.form.get("store_id"))
    sku = sku_of(merchant, request.form.get("sku_id"))
    qty = quantity_of(request.form.get("quantity", 1))
    buy_now = request.form.get("buy_now") == "1"
    cart = cart_of(merchant.id)
    if buy_now:
        # That item alone, beside the cart: the cart stays as it was, and a second 立即购买 starts afresh.
        available = units_at(store, sku.id)
        if qty > available:
            return _refused(merchant, exceeds_stock(sku, store, available, 0, here=cart["store"] in (None, store.id)))
        token = start_buy_now(merchant.id, store.id, sku.id, qty)
        return redirect(url_for("shop.checkout", slug=merchant.slug, buy=token))
    same_store = cart["store"] == store.id
    in_cart = sum(q for s, q in cart["lines"] if s == sku.id) if same_store else 0
    available = units_at(store, sku.id)
    if in_cart + qty > available:
        # Checked before asking to switch store: emptying the cart for an item that cannot be had helps no one.
        # "本店" unless the cart page that shows the refusal is about another store: then name this one.
        here = cart["store"] in (None, store.id)
        return _refused(merchant, exceeds_stock(sku, store, available, in_cart, here=here))
    if cart["lines"] and cart["store"] not in (None, store.id) and request.form.get("replace") != "1":
        # One store per order: ask before throwing away what is in the cart.
        old = db.session.get(Store, cart["store"])
        return render_template("shop/cart.html", merchant=merchant, store=store, switch_from=old,
                               pending=dict(store_id=store.id, sku_id=sku.id, quantity=qty),
                               lines=[], member=current_member(merchant.id), count=cart_count(merchant.id))
    if not same_store:
        cart = {"store": store.id, "lines": []}
    for line in cart["lines"]:
        if line[0] == sku.id:
            line[1] = min(MAX_QUANTITY, line[1] + qty)
            break
    else:
        cart["lines"].append([sku.id, qty])
    save_cart(merchant.id, cart)
    return redirect(url_for("shop.cart", slug=merchant.slug, added=sku.id))


@bp.get("/m/<slug>/cart")
def cart(slug: str):
    merchant = merchant_by_slug(slug)
    current = cart_of(merchant.id)
    asked = request.args.get("store")
    switch_to = None
    if asked:
        wanted = store_of(merchant, asked)
        if not current["lines"]:
            current["store"] = wanted.id
            save_cart(merchant.id, current)
        elif current["store"] != wanted.id:
            switch_to = wanted
    return _cart_page(merchant, switch_to=switch_to, added=request.args.get("added", type=int))


@bp.post("/m/<slug>/cart/update")
def cart_update(slug: str):
    """sku_id + quantity (0 removes); action=clear empties; action=switch&store_id= empties and changes store."""
    merchant = merchant_by_slug(slug)
    cart = cart_of(merchant.id)
    action = request.form.get("action", "")
    if action == "clear":
        cart["lines"] = []
    elif action == "switch":
        cart = {"store": store_of(merchant, request.form.get("store_id")).id, "lines": []}
    else:
        try:
            sku_id = int(request.form.get("sku_id", ""))
        except ValueError:
            raise BadRequest(field="sku_id", zh="商品有误。", en="Wrong item.") from None
        qty = quantity_of(request.form.get("quantity", 0), allow_zero=True)
        in_cart = next((q for s, q in cart["lines"] if s == sku_id), None)
        store = db.session.get(Store, cart["store"]) if cart["store"] else None
        if in_cart is not None and qty > in_cart and store is not None and store.merchant_id == merchant.id:
            # Refuse, not cap: only a step up ("+", or a larger number typed) is checked, and a shopper who
            # asks for one more than the store has expects to be told so with the cart unchanged; quietly
            # setting a different number than the one asked for looks like a broken button. A step down is
            # always taken as asked, even while still above what is on hand (stock sold since it was
            # added): refusing "−" would leave no way to come down, and the line's warning says how many
            # are left.
            available = units_at(store, sku_id)
            if qty > available:
                return _refused(merchant, exceeds_stock(sku_of(merchant, sku_id), store, available, in_cart))
        cart["lines"] = [[s, qty if s == sku_id else q] for s, q in cart["lines"]]
    save_cart(merchant.id, cart)
    return redirect(url_for("shop.cart", slug=merchant.slug))
