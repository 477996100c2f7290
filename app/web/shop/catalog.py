"""Product page (flow 1: a shelf QR opens it), its shelf QR, and the store page.

The store the shopper is at comes from ?store= (a shelf QR carries it), else the cookie `store_<merchant id>`,
else the merchant's first store; opening a store page or a product page with ?store= remembers it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Response, abort, current_app, get_template_attribute, make_response, render_template, request, url_for
from markupsafe import Markup

from app.catalog import snapshot
from app.catalog.service import stock_level
from app.catalog.snapshot import Catalog, ProductView, StoreView
from app.core.clock import now_utc
from app.core.database import reads_only
from app.core.i18n import current_lang
from app.groupbuys import shelf
from app.merchants.hours import is_open
from app.pricing import QuoteLine, quote
from app.vouchers import qr
from app.web.converters import parse_id
from app.web.shop import bp
from app.web.shop.cart import cart_count, cart_of
from app.web.shop.page_memo import memo_page
from app.web.shop.presales import cards as presale_cards
from app.web.shop.session import session_member_ids

STORE_COOKIE_MAX_AGE = 90 * 86400
GEO_COOKIE = "geo"
GEO_COOKIE_MAX_AGE = 30 * 60


# --- shared by the shop's catalog pages --------------------------------------------------------------

def int_arg(name: str) -> int | None:
    return parse_id(request.args.get(name, ""))


def store_cookie_name(merchant_id: int) -> str:
    return f"store_{merchant_id}"


def remembered_store_id(merchant_id: int) -> int | None:
    return parse_id(request.cookies.get(store_cookie_name(merchant_id), ""))


def remember_store(response: Response, merchant_id: int, store_id: int) -> Response:
    response.set_cookie(store_cookie_name(merchant_id), str(store_id), max_age=STORE_COOKIE_MAX_AGE,
                        samesite="Lax", httponly=True, path="/")
    return response


def pick_store(stores, requested_id: int | None, merchant_id: int) -> tuple[StoreView | None, str]:
    """The store to show: ?store= when it is one of `stores`, else the remembered one, else the first.
    Returns (store, source) with source "request", "cookie" or "default"."""
    by_id = {s.id: s for s in stores}
    if requested_id in by_id:
        return by_id[requested_id], "request"
    remembered = remembered_store_id(merchant_id)
    if remembered in by_id:
        return by_id[remembered], "cookie"
    return (stores[0] if stores else None), "default"


def _coordinate(raw: str | None, limit: float) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if math.isfinite(value) and -limit <= value <= limit else None


def shopper_position() -> tuple[tuple[float, float] | None, bool]:
    """(lat, lng) from ?lat=&lng= (the page's geolocation button), else from the short-lived `geo`
    cookie those set. Returns (position, came_from_request)."""
    lat, lng = _coordinate(request.args.get("lat"), 90), _coordinate(request.args.get("lng"), 180)
    if lat is not None and lng is not None:
        return (lat, lng), True
    parts = request.cookies.get(GEO_COOKIE, "").split(":")
    if len(parts) == 2:
        lat, lng = _coordinate(parts[0], 90), _coordinate(parts[1], 180)
        if lat is not None and lng is not None:
            return (lat, lng), False
    return None, False


def remember_position(response: Response, position: tuple[float, float]) -> None:
    # About 100 m precision is plenty to sort stores, and keeps less of the shopper's whereabouts.
    response.set_cookie(GEO_COOKIE, f"{position[0]:.3f}:{position[1]:.3f}", max_age=GEO_COOKIE_MAX_AGE,
                        samesite="Lax", httponly=True, path="/")


def unit_prices(cat: Catalog, product: ProductView, signed_in: bool) -> dict[int, QuoteLine]:
    """{sku id: one unit of it, priced by the quote} for a guest or a signed-in member; kept with the snapshot
    (it depends on nothing else), so catalog pages price without a query and almost without arithmetic."""
    return cat.memo(("prices", product.id, signed_in), lambda: {
        line.sku_id: line for line in quote([(sku, 1) for sku in product.skus], member=True if signed_in else None).lines})


def card_renderer(cat: Catalog, signed_in: bool, card_query: str = ""):
    """For templates: product -> its card's HTML. A card depends on the product, the language, whether a
    member is signed in and its link, so it is rendered once per snapshot for each of those."""
    macro = get_template_attribute("shop/_product_card.html", "product_card")
    base, lang = f"/m/{cat.merchant.slug}/p/", current_lang()

    def render(product: ProductView, href: str):
        # "From" the cheapest unit this shopper pays, beside the lowest list price.
        from_fen = min((p.unit_fen for p in unit_prices(cat, product, signed_in).values()), default=0)
        return macro(product, signed_in, href, from_fen)

    def card(product: ProductView):
        href = f"{base}{product.id}{card_query}"
        return cat.memo(("card", product.id, lang, signed_in, href), lambda: render(product, href))

    return card


@dataclass(frozen=True, slots=True)
class StaticParts:
    gallery: Markup
    reviews: Markup


def static_parts(cat: Catalog, product: ProductView, summary, reviews) -> StaticParts:
    """The product page's photos and reviews, rendered once per product, language and catalog rev (a new
    review or photo gives the merchant a new rev, hence a new snapshot) instead of on every view."""
    def render() -> StaticParts:
        return StaticParts(get_template_attribute("shop/_product_static.html", "gallery")(product),
                           get_template_attribute("shop/_product_static.html", "reviews_panel")(summary, reviews))

    return cat.memo(("product-static", product.id, current_lang()), render)


def visit_or_404(slug: str) -> snapshot.Visit:
    """The merchant's catalog and the signed-in member (confirmed), in one query; 404 for an unknown slug."""
    visit = snapshot.for_slug(slug, session_member_ids())
    if visit is None:
        abort(404)
    return visit


# --- product ----------------------------------------------------------------------------------------

PRODUCT_QUERY = frozenset({"store", "lang"})  # what the product page reads from its query string


@bp.get("/m/<slug>/p/<id:product_id>")
@reads_only
def product(slug: str, product_id: int):
    # One query: the merchant row, the signed-in member confirmed, and the stock at every store.
    visit = snapshot.with_stock(slug, product_id, session_member_ids())
    if visit is None:
        abort(404)
    cat, product, table, member_id = visit.catalog, visit.product, visit.stock, visit.member_id
    merchant = cat.merchant
    store, source = pick_store(cat.stores, int_arg("store"), merchant.id)
    stock = table.get(store.id, {}) if store else {}
    in_stock_at = {store_id: any(q > 0 for q in row.values()) for store_id, row in table.items()}
    cart = cart_of(merchant.id)
    in_cart = {sku_id: q for sku_id, q in cart["lines"]} if store and cart["store"] == store.id else {}
    # Preselect the first SKU the shopper can still add (in stock beyond what the cart already holds).
    selected = next((s for s in product.skus if stock.get(s.id, 0) > in_cart.get(s.id, 0)), None)
    shown = selected or (product.skus[0] if product.skus else None)
    now, cart_n = now_utc(), cart_count(merchant.id)
    groupbuys = shelf.offers_for_product(cat, product.id, now)
    presales = presale_cards(cat, merchant.id, product.id)

    def render() -> str:
        reviews = cat.reviews(product.id)
        base = f"/m/{merchant.slug}"
        return render_template(
            "shop/product.html", merchant=merchant, product=product, member_id=member_id, stores=cat.stores,
            store=store, stock=stock, in_stock_at=in_stock_at, selected=selected, shown=shown,
            summary=reviews.summary, static_parts=static_parts(cat, product, reviews.summary, reviews.recent),
            home_url=f"{base}/", cart_url=f"{base}/cart/add",
            store_url=f"{base}/s/{store.id}" if store else None,
            signin_url=None if member_id else f"{base}/signin?{urlencode({'next': request.full_path.rstrip('?')})}",
            qr_url=f"{base}/p/{product.id}/qr.png" + (f"?store={store.id}" if store else ""),
            prices=unit_prices(cat, product, member_id is not None), stock_level=stock_level, cart_n=cart_n,
            in_cart=in_cart, groupbuys=groupbuys,
            all_in_cart=selected is None and any(stock.get(s.id, 0) > 0 for s in product.skus),
            presales=presales,
        )

    # Everything the page shows beyond the snapshot (which is the product, its prices and reviews, the
    # stores): the page memo adds language, path and query.
    key = (product.id, store.id if store else None, member_id is not None, tuple(sorted(stock.items())),
           tuple(sorted(in_stock_at.items())), tuple(sorted(in_cart.items())), cart_n,
           tuple(g.id for g in groupbuys), tuple(p.id for p in presales))
    response = make_response(memo_page(cat, key, render, reads=PRODUCT_QUERY))
    if store is not None and source == "request":
        remember_store(response, merchant.id, store.id)
    return response


def product_link(merchant, product_id: int, store_id: int | None) -> str:
    """The absolute product URL a shelf QR carries."""
    path = url_for("shop.product", slug=merchant.slug, product_id=product_id, store=store_id)
    return current_app.config["APP_BASE_URL"] + path


@bp.get("/m/<slug>/p/<id:product_id>/qr.png")
def product_qr(slug: str, product_id: int):
    """A shelf or poster QR opening the product page with its store chosen."""
    cat = visit_or_404(slug).catalog
    product = cat.product(product_id)
    if product is None:
        abort(404)
    store_id = int_arg("store")
    if store_id is not None and cat.store(store_id) is None:
        abort(404)
    response = Response(qr.cached_png(product_link(cat.merchant, product.id, store_id)), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


# --- store ------------------------------------------------------------------------------------------

def delivery_km(metres: int) -> str:
    km = metres / 1000
    return f"{km:g}" if km == round(km, 1) else f"{km:.1f}"


@bp.get("/m/<slug>/s/<id:store_id>")
@reads_only
def store(slug: str, store_id: int):
    visit = visit_or_404(slug)
    cat = visit.catalog
    merchant = cat.merchant
    store = cat.store(store_id)
    if store is None:
        abort(404)
    response = make_response(render_template(
        "shop/store.html", merchant=merchant, store=store, products=snapshot.in_stock_at(cat, store.id),
        amap_url=url_for_amap(store), card=card_renderer(cat, visit.member_id is not None, f"?store={store.id}"),
        open_now=is_open(store, now_utc()), cart_n=cart_count(merchant.id),
        delivery_km=delivery_km(store.delivery_radius_m) if store.delivery_radius_m else None,
    ))
    return remember_store(response, merchant.id, store.id)


def url_for_amap(store: StoreView) -> str:
    """A plain link to Amap's marker page (opens the Amap app when installed); no map script."""
    return "https://uri.amap.com/marker?" + urlencode(
        {"position": f"{store.longitude},{store.latitude}", "name": store.name}, safe=",")
