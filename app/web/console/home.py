"""The console's landing page: who is signed in and the areas their role opens (the dashboard comes later)."""
from __future__ import annotations

from flask import render_template

from app.extensions import db
from app.merchants.models import Merchant, Store
from app.merchants.permissions import Area
from app.web.auth import current_staff
from app.web.console import bp
from app.web.console.guard import console_view, scope


@bp.get("/")
@console_view(Area.HOME)
def home():
    me = scope()
    stores = db.session.execute(me.select(Store).order_by(Store.id)).scalars().all()
    return render_template("console/home.html", staff=current_staff(), stores=stores,
                           merchant=db.session.get(Merchant, me.merchant_id))
