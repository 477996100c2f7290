"""Consumer H5 pages."""
from flask import Blueprint

bp = Blueprint("shop", __name__)

from app.web.shop import auth, cart, catalog, coupons, groupbuys, home, me, orders, phone, vouchers  # noqa: E402,F401
from app.web.shop import presales  # noqa: E402,F401
