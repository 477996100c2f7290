"""The console's landing page, the dashboard: today against yesterday, the last 30 Shanghai days (a line chart
of money, a bar chart per store, a table and its CSV) and today's figures per store. Owners and operators see
every store (or one, with ?store=<id>); a store manager sees their own store (Scope)."""
from __future__ import annotations

from flask import render_template, request, url_for

from app.core.clock import shanghai_today
from app.core.money import yuan
from app.extensions import db
from app.merchants.models import Merchant, Store
from app.merchants.permissions import Area
from app.reports.figures import Figures, daily, last_days
from app.web.auth import current_staff
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response


def _figures() -> tuple[list[Store], Store | None, Figures]:
    """The stores this person may see, the one chosen (?store=<id>, 404 outside the scope) and their figures."""
    me = scope()
    stores = list(db.session.execute(me.select(Store).order_by(Store.id)).scalars())
    store_id = request.args.get("store", type=int)
    chosen = me.get(Store, store_id) if store_id is not None else None
    store_ids = [chosen.id] if chosen else [s.id for s in stores]
    return stores, chosen, daily(me.merchant_id, store_ids, last_days(shanghai_today()))


def orders_link(on: str, day, store_id: int | None = None) -> str:
    """The order list behind a figure: the orders placed (created), paid, picked up or refunded on that
    Shanghai day, at one store or at every store shown."""
    args = {"on": on, "from": day.isoformat(), "to": day.isoformat()}
    if store_id is not None:
        args["store"] = store_id
    return url_for("console.orders", **args)


def vouchers_link(day, store_id: int | None = None) -> str:
    """The vouchers behind the redemptions figure: redeemed (not undone) that day, at that store."""
    args = {"redeemed_on": day.isoformat()}
    if store_id is not None:
        args["redeemed_at_store"] = store_id
    return url_for("console.vouchers", **args)


@bp.get("/")
@console_view(Area.HOME)
def home():
    stores, chosen, figures = _figures()
    shown = [chosen] if chosen else stores
    today, yesterday = figures.days[-1], figures.days[-2]
    chart = {
        "days": [f"{d:%m-%d}" for d in figures.days],
        "sales": [fen / 100 for fen in figures.series("sales_fen")],
        "refunds": [fen / 100 for fen in figures.series("refunds_fen")],
        "stores": [s.name for s in shown],
        "orders": [figures.store(s.id).orders for s in shown],
        "pickups": [figures.store(s.id).pickups for s in shown],
    }
    return render_template("console/home.html", staff=current_staff(), orders_link=orders_link, vouchers_link=vouchers_link, stores=stores, chosen=chosen, shown=shown,
                           merchant=db.session.get(Merchant, scope().merchant_id), figures=figures,
                           today=today, yesterday=yesterday, now=figures.day(today), before=figures.day(yesterday),
                           chart=chart)


@bp.get("/dashboard.csv")
@console_view(Area.HOME)
def dashboard_csv():
    _, chosen, figures = _figures()
    suffix = f"-store{chosen.id}" if chosen else ""
    rows = ((d, figures.day(d)) for d in reversed(figures.days))
    return csv_response(f"dashboard-{figures.days[0]}-{figures.days[-1]}{suffix}.csv",
                        ["date", "sales_yuan", "payments", "refunds_yuan", "refunds", "net_yuan", "orders",
                         "pickups", "redemptions", "avg_paid_to_pickup_minutes"],
                        ([d.isoformat(), yuan(r.sales_fen), r.payments, yuan(r.refunds_fen), r.refunds,
                          yuan(r.net_fen), r.orders, r.pickups, r.redemptions, r.average_wait_minutes]
                         for d, r in rows))
