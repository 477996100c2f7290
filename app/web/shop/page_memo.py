"""Whole shop pages kept as HTML in each worker, for pages read far more often than they change (the
product page a shelf QR opens).

A page is kept under the merchant's catalog rev, so after any catalog change (a new rev) no worker serves a
page of the old catalog again. Within one rev the caller names, in `key`, everything else the page shows:
stock, the cart, whether a member is signed in. The language, the path and the query string are added
here. One bounded LRU per worker process (PAGES, across all merchants): pages of an old rev, or of
a product nobody opens, age out. The shopper's CSRF token is the one part that differs between browsers: it is
kept as a slot and filled in on every use, so the pages are shared between shoppers, never their tokens.

A request with a query parameter the page does not read (`?utm_source=…`) is rendered without keeping it,
so nobody can fill the memory with URLs. `SHOP_PAGE_MEMO = False` turns the memo off (a test renders both
ways and compares).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import current_app, request

from app.catalog.snapshot import Catalog
from app.core.i18n import current_lang
from app.core.lru import LRU
from app.web import csrf

SLOT = "\x00csrf-token\x00"
PAGES = LRU(2048)  # per worker, ~8 kB each: ~16 MB at most


def memo_page(cat: Catalog, key: tuple[Hashable, ...], render: Callable[[], str], *,
              reads: frozenset[str]) -> str:
    """The page `render()` makes, kept per catalog rev under `key` plus language, path and query. `reads`: the
    query parameters the page uses (any other in the URL skips the memo)."""
    if not current_app.config.get("SHOP_PAGE_MEMO", True) or not reads.issuperset(request.args.keys()):
        return render()

    def build() -> str:
        html = render()
        token = csrf.issued_token()
        return html.replace(token, SLOT) if token else html

    html = PAGES.get((cat.merchant.id, cat.rev, current_lang(), request.path, request.query_string) + key, build)
    return html.replace(SLOT, csrf.csrf_token()) if SLOT in html else html
