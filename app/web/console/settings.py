"""The merchant's settings (owner): undo window, QR rotation, unpaid minutes, points rate, pickup slot length."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.core.schemas import parse
from app.extensions import db
from app.merchants import console
from app.merchants.models import Merchant
from app.merchants.permissions import Action, Area
from app.merchants.schemas import SettingsForm
from app.web.console import bp
from app.web.console.guard import console_view, scope


@bp.get("/settings")
@console_view(Area.SETTINGS)
def settings():
    return render_template("console/settings.html", merchant=db.session.get(Merchant, scope().merchant_id),
                           saved=request.args.get("saved") == "1")


@bp.post("/settings/save")
@console_view(Area.SETTINGS, Action.EDIT)
def settings_save():
    data = {k: v for k, v in request.form.items() if k != "csrf_token"}
    data["rotate_qr"] = data.get("rotate_qr") == "1"
    console.update_settings(scope(), parse(SettingsForm, data))
    return redirect(url_for("console.settings", saved=1))
