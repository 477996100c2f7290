"""URLs that vouchers carry: the QR content and the holder's private page."""
from __future__ import annotations

from flask import current_app

from app.vouchers.models import Voucher
from app.vouchers.tokens import make_holder_token, make_qr_token


def qr_token(voucher: Voucher, *, rotating: bool) -> str:
    return make_qr_token(current_app.config["SECRET_KEY"], voucher.id, rotating=rotating)


def qr_content(token: str) -> str:
    """What the QR encodes: a URL to our site, so scanning it with WeChat opens the voucher page."""
    return f"{current_app.config['APP_BASE_URL']}/v/{token}"


def holder_url(voucher: Voucher) -> str:
    return f"{current_app.config['APP_BASE_URL']}/w/{make_holder_token(current_app.config['SECRET_KEY'], voucher.id)}"
