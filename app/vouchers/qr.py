"""QR images for vouchers: a normal QR (never Micro QR: browser scanners cannot read those).

Making one costs about 15 ms, so a static voucher's image is made once and kept (LRU in each worker,
and `Cache-Control: immutable` for browsers); a rotating one is made only when the phone asks.
"""
from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(content: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(content)
    qr.make(fit=True)
    return qr


def png(content: str) -> bytes:
    buf = io.BytesIO()
    _qr(content).make_image().save(buf, format="PNG")
    return buf.getvalue()


def svg(content: str) -> bytes:
    buf = io.BytesIO()
    _qr(content).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buf)
    return buf.getvalue()


@lru_cache(maxsize=2048)
def cached_png(content: str) -> bytes:
    return png(content)


@lru_cache(maxsize=2048)
def cached_svg(content: str) -> bytes:
    return svg(content)
