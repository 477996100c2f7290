"""JSON API v1 for POS, ERP and other systems. Bearer keys; one error envelope."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from app.web.api import campaigns, catalog, counter, docs, vouchers  # noqa: E402,F401
