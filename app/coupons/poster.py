"""A campaign's poster QR (PNG 1024 px and SVG) with the campaign's name under it: scanning it opens the
campaign's page with 领取. Pure functions of (content, name); the console serves them.

The SVG writes the name as text (any browser or print shop renders it with its own Chinese font). The PNG
draws it with a CJK font found on the server (Noto Sans CJK, WenQuanYi, Source Han, …); a server without one
makes the PNG with the QR alone, and `png_has_name()` says so, so the console can point to the SVG."""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

SIZE = 1024
QR_SIZE = 860
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
    "/System/Library/Fonts/PingFang.ttc",
)


def _matrix(content: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(content)
    qr.make(fit=True)
    return qr.get_matrix()


@lru_cache(maxsize=1)
def _font_path() -> str | None:
    return next((p for p in FONT_CANDIDATES if Path(p).exists()), None)


def png_has_name() -> bool:
    return _font_path() is not None


def svg(content: str, name: str) -> bytes:
    m = _matrix(content)
    cell = QR_SIZE / len(m)
    left = (SIZE - QR_SIZE) / 2
    rects = "".join(f'<rect x="{left + x * cell:.2f}" y="{y * cell:.2f}" width="{cell:.2f}" height="{cell:.2f}"/>'
                    for y, row in enumerate(m) for x, dark in enumerate(row) if dark)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">'
            f'<rect width="{SIZE}" height="{SIZE}" fill="#fff"/><g fill="#000" shape-rendering="crispEdges">{rects}</g>'
            f'<text x="{SIZE / 2}" y="{QR_SIZE + 90}" font-size="64" text-anchor="middle" '
            f'font-family="PingFang SC, Noto Sans CJK SC, Microsoft YaHei, sans-serif">{escape(name)}</text></svg>'
            ).encode()


def png(content: str, name: str) -> bytes:
    m = _matrix(content)
    image = Image.new("L", (SIZE, SIZE), 255)
    draw = ImageDraw.Draw(image)
    cell = QR_SIZE / len(m)
    left = (SIZE - QR_SIZE) / 2
    for y, row in enumerate(m):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle([left + x * cell, y * cell, left + (x + 1) * cell - 1, (y + 1) * cell - 1], fill=0)
    path = _font_path()
    if path:
        font = ImageFont.truetype(path, 60)
        width = draw.textlength(name, font=font)
        draw.text(((SIZE - width) / 2, QR_SIZE + 30), name, font=font, fill=0)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
