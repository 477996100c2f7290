"""API and counter keys (owner): create (the secret shown once, on the answer), list, revoke."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.core.schemas import parse
from app.extensions import db
from app.merchants import console
from app.merchants.models import ApiKey, Store
from app.merchants.permissions import Action, Area
from app.merchants.schemas import KeyForm
from app.web.console import bp
from app.web.console.guard import console_view, scope


def _page(created=None, secret=None):
    me = scope()
    keys = db.session.execute(me.select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id)).scalars().all()
    stores = db.session.execute(me.select(Store).order_by(Store.id)).scalars().all()
    return render_template("console/keys.html", keys=keys, stores=stores, created=created, secret=secret,
                           store_names={s.id: s.name for s in stores})


@bp.get("/keys")
@console_view(Area.KEYS)
def keys():
    return _page()


@bp.post("/keys")
@console_view(Area.KEYS, Action.EDIT)
def key_create():
    form = parse(KeyForm, {k: v for k, v in request.form.items() if k != "csrf_token"})
    row, secret = console.create_key(scope(), form)
    return _page(created=row, secret=secret), 201


@bp.post("/keys/<id:key_id>/revoke")
@console_view(Area.KEYS, Action.EDIT)
def key_revoke(key_id: int):
    console.revoke_key(scope(), key_id)
    return redirect(url_for("console.keys"))
