"""Stores: list (sort, page, CSV), view, create and edit (owner), pause and resume (owner; a manager their own)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from app.core.database import rollback
from app.core.errors import BadRequest, DomainError

from app.core.schemas import parse
from app.extensions import db
from app.merchants import console
from app.merchants.hours import around_the_clock
from app.merchants.models import Store
from app.merchants.permissions import Action, Area
from app.merchants.schemas import StoreForm
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response, paginate

SORTS = {"id": Store.id, "name": Store.name, "city": Store.city, "active": Store.active}


def _filtered():
    query = scope().select(Store)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(Store.name.contains(q) | Store.address.contains(q))
    status = request.args.get("status")
    if status in ("active", "paused"):
        query = query.where(Store.active.is_(status == "active"))
    return query


def _form_data() -> dict:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


@bp.get("/stores")
@console_view(Area.STORES)
def stores():
    return render_template("console/stores.html", page=paginate(_filtered(), SORTS, "id"),
                           around_the_clock=around_the_clock)


@bp.get("/stores.csv")
@console_view(Area.STORES)
def stores_csv():
    rows = db.session.execute(_filtered().order_by(Store.id)).scalars()
    return csv_response("stores.csv", ["id", "name", "city", "address", "phone", "opens_at", "closes_at",
                                       "latitude", "longitude", "delivery_radius_m", "active"],
                        ([s.id, s.name, s.city, s.address, s.phone, f"{s.opens_at:%H:%M}", f"{s.closes_at:%H:%M}",
                          s.latitude, s.longitude, s.delivery_radius_m, int(s.active)] for s in rows))


@bp.get("/stores/<id:store_id>")
@console_view(Area.STORES)
def store(store_id: int):
    return render_template("console/store.html", store=scope().get(Store, store_id),
                           around_the_clock=around_the_clock)


@bp.route("/stores/new", methods=["GET", "POST"])
@console_view(Area.STORES, Action.EDIT)
def store_new():
    if request.method == "POST":
        try:
            created = console.create_store(scope(), parse(StoreForm, _form_data()))
        except DomainError as exc:
            rollback()
            return render_template("console/store_form.html", store=None, error=exc.message(g.lang)), exc.status
        return redirect(url_for("console.store", store_id=created.id))
    return render_template("console/store_form.html", store=None)


@bp.route("/stores/<id:store_id>/edit", methods=["GET", "POST"])
@console_view(Area.STORES, Action.EDIT)
def store_edit(store_id: int):
    store = scope().get(Store, store_id)
    if request.method == "POST":
        try:
            console.update_store(scope(), store_id, parse(StoreForm, _form_data()))
        except BadRequest as exc:
            rollback()
            return render_template("console/store_form.html", store=store, error=exc.message(g.lang)), exc.status
        return redirect(url_for("console.store", store_id=store_id))
    return render_template("console/store_form.html", store=store)


@bp.post("/stores/<id:store_id>/pause")
@console_view(Area.STORES, Action.PAUSE)
def store_pause(store_id: int):
    console.set_store_active(scope(), store_id, False)
    return redirect(url_for("console.store", store_id=store_id))


@bp.post("/stores/<id:store_id>/resume")
@console_view(Area.STORES, Action.PAUSE)
def store_resume(store_id: int):
    console.set_store_active(scope(), store_id, True)
    return redirect(url_for("console.store", store_id=store_id))
