"""The merchant console (商户后台) at /console/: thin views over app.merchants; who may do what is
app.merchants.permissions, what they may see is app.merchants.scope."""
from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for

from app.core.i18n import N_
from app.merchants.models import ROLE_LABELS
from app.merchants.permissions import Action, Area, allowed
from app.web.auth import current_staff
from app.web.console.guard import check_csrf, csrf_token, idle_expired
from app.web.console.listing import choices

bp = Blueprint("console", __name__)

# Role names as the console shows them (ROLE_LABELS), listed here so that extraction finds them.
SHOWN_LABELS = (N_("店主"), N_("运营"), N_("店长"), N_("收银员"))


@bp.before_request
def _console_session():
    g.pop("console_scope", None)  # who acts is cached for one request only (tests keep one app context)
    if idle_expired() and request.endpoint != "console.login":
        if request.method == "GET":
            return redirect(url_for("console.login", next=request.full_path.rstrip("?"), idle=1))
    check_csrf()
    return None


@bp.context_processor
def _console_helpers():
    return {"csrf_token": csrf_token, "console_allowed": allowed, "Area": Area, "Action": Action,
            "current_staff": current_staff, "role_labels_all": ROLE_LABELS, "choices": choices}


from app.web.console import audit, auth, campaigns, groupbuys, home, keys, orders, settings, staff, stock  # noqa: E402,F401
from app.web.console import stores, vouchers  # noqa: E402,F401
from app.web.console import categories, product_import, product_parts, products  # noqa: E402,F401
from app.web.console import presales  # noqa: E402,F401
