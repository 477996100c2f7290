#!/usr/bin/env python3
"""Generate deterministic placeholder images for the O2O Store demo.

Writes (relative to the repo root):
  static/img/products/<slug>.png   480x480, one per product
  static/img/products/<slug>-top.png  480x480, the milk drinks seen from above (second gallery photo)
  static/img/store.png             640x360 storefront
  static/img/logo.png              128x128

Flat colours + simple shapes, no text (so no CJK font is needed). Shapes are
drawn at 2x and downsampled for anti-aliasing, then quantized to a small
palette without dithering, which keeps each file small and makes the output
byte-for-byte reproducible for a given Pillow version.

Usage: .venv/bin/python scripts/make_images.py
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
IMG_DIR = ROOT / "static" / "img"
PRODUCT_DIR = IMG_DIR / "products"

SS = 2  # supersampling factor
PALETTE_COLORS = 24

WHITE = (255, 255, 255)
CUP = (250, 248, 244)
CUP_SHADE = (226, 221, 212)


class Canvas:
    """Drawing helper working in final-image coordinates, rendered at SS x."""

    def __init__(self, w: int, h: int, bg):
        self.w, self.h = w, h
        self.img = Image.new("RGB", (w * SS, h * SS), bg)
        self.d = ImageDraw.Draw(self.img)

    @staticmethod
    def _s(box):
        return [round(v * SS) for v in box]

    def ellipse(self, box, fill, outline=None, width=0):
        self.d.ellipse(self._s(box), fill=fill, outline=outline, width=width * SS)

    def rect(self, box, fill, radius=0):
        if radius:
            self.d.rounded_rectangle(self._s(box), radius=radius * SS, fill=fill)
        else:
            self.d.rectangle(self._s(box), fill=fill)

    def poly(self, pts, fill):
        self.d.polygon([(x * SS, y * SS) for x, y in pts], fill=fill)

    def line(self, pts, fill, width):
        self.d.line([(x * SS, y * SS) for x, y in pts], fill=fill, width=width * SS, joint="curve")

    def arc(self, box, start, end, fill, width):
        self.d.arc(self._s(box), start, end, fill=fill, width=width * SS)

    def pieslice(self, box, start, end, fill):
        self.d.pieslice(self._s(box), start, end, fill=fill)

    def circle(self, cx, cy, r, fill):
        self.ellipse((cx - r, cy - r, cx + r, cy + r), fill)

    def save(self, path: Path, colors: int = PALETTE_COLORS, limit: int | None = None):
        out = self.img.resize((self.w, self.h), Image.Resampling.LANCZOS)
        pal = out.quantize(colors=colors, method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
        path.parent.mkdir(parents=True, exist_ok=True)
        pal.save(path, format="PNG", optimize=True)
        size = path.stat().st_size
        if limit and size > limit:
            # Retry with fewer colours until under the limit.
            for c in (16, 12, 8):
                pal = out.quantize(colors=c, method=Image.Quantize.MEDIANCUT,
                                   dither=Image.Dither.NONE)
                pal.save(path, format="PNG", optimize=True)
                size = path.stat().st_size
                if size <= limit:
                    break
        return size


def shade(rgb, f):
    """f < 1 darkens, f > 1 lightens towards white."""
    if f <= 1:
        return tuple(round(c * f) for c in rgb)
    t = f - 1
    return tuple(round(c + (255 - c) * t) for c in rgb)


def ground_shadow(cv: Canvas, cx, y, rx, bg):
    cv.ellipse((cx - rx, y - rx * 0.12, cx + rx, y + rx * 0.12), shade(bg, 0.88))


# --------------------------------------------------------------------------- drinks

def draw_cup(cv: Canvas, bg, drink, art=None, foam=None, cup=CUP):
    """Side-view cup on a saucer, seen slightly from above."""
    cx = 240
    # saucer
    ground_shadow(cv, cx, 372, 170, bg)
    cv.ellipse((cx - 150, 330, cx + 150, 390), shade(cup, 0.9))
    cv.ellipse((cx - 150, 322, cx + 150, 380), cup)
    cv.ellipse((cx - 70, 338, cx + 70, 364), shade(cup, 0.93))
    # handle
    cv.ellipse((cx + 78, 180, cx + 168, 290), cup)
    cv.ellipse((cx + 100, 202, cx + 146, 268), bg)
    # body (trapezoid + rounded bottom)
    top_y, bot_y = 150, 330
    cv.poly([(cx - 120, top_y), (cx + 120, top_y), (cx + 82, bot_y - 20), (cx - 82, bot_y - 20)], cup)
    cv.ellipse((cx - 84, bot_y - 44, cx + 84, bot_y + 4), cup)
    # body shading stripe on the right
    cv.poly([(cx + 86, top_y + 8), (cx + 118, top_y + 8), (cx + 82, bot_y - 22), (cx + 62, bot_y - 22)],
            shade(cup, 0.94))
    # rim + drink surface
    cv.ellipse((cx - 122, top_y - 30, cx + 122, top_y + 30), shade(cup, 0.95))
    cv.ellipse((cx - 110, top_y - 22, cx + 110, top_y + 22), drink)
    if foam:
        cv.ellipse((cx - 92, top_y - 16, cx + 92, top_y + 16), foam)
        cv.ellipse((cx - 70, top_y - 11, cx + 70, top_y + 11), shade(foam, 1.25))
    if art:
        # simple latte-art heart, flattened for perspective
        cv.ellipse((cx - 38, top_y - 12, cx + 2, top_y + 6), art)
        cv.ellipse((cx - 2, top_y - 12, cx + 38, top_y + 6), art)
        cv.poly([(cx - 36, top_y - 1), (cx + 36, top_y - 1), (cx, top_y + 15)], art)


def draw_steam(cv: Canvas, color):
    for i, x0 in enumerate((200, 240, 280)):
        pts = []
        for k in range(21):
            y = 105 - k * 3.6
            x = x0 + 9 * math.sin(k / 20 * math.pi * 2 + i)
            pts.append((x, y))
        cv.line(pts, color, 7)


def draw_top(cv: Canvas, bg, drink, foam, art=None, cup=CUP):
    """The same drink seen from straight above: saucer, cup, crema ring, foam and a rosetta."""
    cx, cy = 240, 250
    cv.circle(cx + 8, cy + 10, 200, shade(bg, 0.88))  # shadow
    cv.circle(cx, cy, 200, shade(cup, 0.92))          # saucer
    cv.circle(cx, cy, 186, cup)
    cv.ellipse((cx + 118, cy - 34, cx + 214, cy + 34), cup)  # handle
    cv.circle(cx, cy, 134, shade(cup, 0.9))           # cup rim
    cv.circle(cx, cy, 122, drink)
    cv.circle(cx, cy, 104, foam)
    if art:
        # rosetta: a stack of shrinking leaves with a stem through them
        for i, r in enumerate((54, 46, 38, 30, 22)):
            y = cy + 40 - i * 20
            cv.ellipse((cx - r, y - r * 0.45, cx + r, y + r * 0.45), art)
            cv.ellipse((cx - r * 0.7, y - r * 0.3 + 6, cx + r * 0.7, y + r * 0.3 + 6), foam)
        cv.line([(cx, cy + 70), (cx, cy - 66)], art, 5)
    cv.circle(cx - 60, cy - 70, 10, shade(cup, 1.0))  # a sugar cube's worth of highlight on the rim
    # a spoon on the saucer
    cv.line([(cx - 150, cy + 96), (cx - 96, cy + 150)], shade(cup, 0.7), 10)
    cv.ellipse((cx - 176, cy + 62, cx - 138, cy + 104), shade(cup, 0.7))


def drink_top(bg, drink, foam, art=None):
    def _draw(cv: Canvas, _bg):
        draw_top(cv, bg, drink, foam, art)
    return _draw


def drink_product(bg, drink, foam=None, art=None, steam=True):
    def _draw(cv: Canvas, _bg):
        if steam:
            draw_steam(cv, shade(bg, 1.35))
        draw_cup(cv, bg, drink, art=art, foam=foam)
    return _draw


def draw_cold_brew(cv: Canvas, bg):
    cx = 240
    ground_shadow(cv, cx, 400, 110, bg)
    coffee = (74, 44, 28)
    glass = shade(bg, 1.55)
    # straw
    cv.line([(cx + 40, 190), (cx + 70, 60), (cx + 110, 48)], (232, 90, 79), 12)
    # glass body
    cv.poly([(cx - 95, 110), (cx + 95, 110), (cx + 75, 395), (cx - 75, 395)], glass)
    # coffee inside
    cv.poly([(cx - 84, 160), (cx + 84, 160), (cx + 68, 383), (cx - 68, 383)], coffee)
    cv.ellipse((cx - 84, 150, cx + 84, 170), shade(coffee, 1.2))
    # milk swirl band
    cv.poly([(cx - 80, 215), (cx + 80, 215), (cx + 78, 238), (cx - 78, 238)], shade(coffee, 1.45))
    # ice cubes
    for (x, y, a) in ((-40, 175, 12), (18, 190, -10), (-10, 262, 6), (30, 300, -14)):
        s = 26
        pts = []
        for k in range(4):
            ang = math.radians(a + 45 + 90 * k)
            pts.append((cx + x + s * math.cos(ang), y + s * math.sin(ang)))
        cv.poly(pts, (196, 226, 238))
    # glass rim + highlight
    cv.ellipse((cx - 96, 100, cx + 96, 122), shade(glass, 1.1))
    cv.ellipse((cx - 86, 104, cx + 86, 118), shade(bg, 1.2))
    cv.line([(cx - 70, 140), (cx - 56, 370)], WHITE, 8)


# --------------------------------------------------------------------------- bakery

def plate(cv: Canvas, bg, y=340, rx=185):
    ground_shadow(cv, 240, y + 26, rx + 10, bg)
    cv.ellipse((240 - rx, y - 44, 240 + rx, y + 36), shade(CUP, 0.9))
    cv.ellipse((240 - rx, y - 52, 240 + rx, y + 28), CUP)
    cv.ellipse((240 - rx + 40, y - 38, 240 + rx - 40, y + 14), shade(CUP, 0.95))


def draw_croissant(cv: Canvas, bg):
    plate(cv, bg)
    dough, dark = (222, 160, 74), (186, 118, 46)
    cx, cy = 240, 250
    # overlapping lobes along a crescent (ends lower than the middle);
    # outer lobes first so the big middle lobe sits on top
    ts = [-1.0, 1.0, -0.5, 0.5, 0.0]
    for t in ts:
        x = cx + t * 135
        y = cy + 55 * t * t
        r = 82 - 44 * abs(t)
        rx = r * 0.78
        cv.ellipse((x - rx, y - r, x + rx, y + r), dark)
        cv.ellipse((x - rx + 5, y - r + 4, x + rx - 5, y + r - 9), dough)
        cv.ellipse((x - rx * 0.45, y - r + 14, x + rx * 0.2, y - r * 0.25), shade(dough, 1.25))


def draw_bagel(cv: Canvas, bg):
    plate(cv, bg)
    crust, inner = (201, 140, 70), (236, 205, 150)
    cx, cy = 240, 262
    cv.ellipse((cx - 140, cy - 96, cx + 140, cy + 96), shade(crust, 0.8))
    cv.ellipse((cx - 136, cy - 104, cx + 136, cy + 84), crust)
    cv.ellipse((cx - 44, cy - 36, cx + 44, cy + 20), inner)
    cv.ellipse((cx - 40, cy - 30, cx + 40, cy + 24), shade(bg, 1.0))
    # plate visible through the hole
    cv.ellipse((cx - 40, cy - 30, cx + 40, cy + 24), shade(CUP, 0.95))
    # sesame seeds (fixed positions -> deterministic)
    seeds = [(-95, -40), (-70, -70), (-30, -82), (15, -86), (60, -74), (96, -48),
             (110, -5), (92, 35), (50, 55), (0, 62), (-55, 52), (-100, 25), (-112, -12),
             (-78, -20), (78, -22), (-40, -58), (35, -60)]
    for (dx, dy) in seeds:
        cv.ellipse((cx + dx - 7, cy + dy - 4, cx + dx + 7, cy + dy + 4), (250, 238, 210))


def draw_cheesecake(cv: Canvas, bg):
    plate(cv, bg)
    cream, crust, berry = (250, 236, 196), (176, 118, 62), (196, 42, 72)
    # wedge pointing left: top face, front face, crust
    tip, back, front_r = (110, 262), (370, 182), (400, 236)
    h, crust_h = 70, 20
    cv.poly([tip, back, front_r], shade(cream, 1.15))
    cv.poly([(back[0], back[1]), front_r, (front_r[0], front_r[1] + h), (back[0] + 8, back[1] + h - 4)],
            shade(cream, 0.88))
    cv.poly([tip, front_r, (front_r[0], front_r[1] + h), (tip[0], tip[1] + h)], cream)
    cv.poly([(tip[0], tip[1] + h - crust_h), (front_r[0], front_r[1] + h - crust_h),
             (front_r[0], front_r[1] + h), (tip[0], tip[1] + h)], crust)
    # berry sauce on top
    cv.ellipse((290, 200, 370, 228), berry)
    cv.circle(318, 210, 8, shade(berry, 1.4))


def draw_tiramisu(cv: Canvas, bg):
    plate(cv, bg)
    cocoa, cream, sponge = (98, 60, 38), (246, 232, 206), (196, 140, 84)
    x0, x1, y0 = 130, 350, 190
    # top face (cocoa) in perspective
    cv.poly([(x0, y0 + 20), (x1, y0 + 20), (x1 + 30, y0 - 10), (x0 + 30, y0 - 10)], cocoa)
    layers = [cocoa, cream, sponge, cream, sponge]
    h = 28
    for i, col in enumerate(layers):
        ya = y0 + 20 + i * h
        cv.rect((x0, ya, x1, ya + h), col)
        cv.poly([(x1, ya), (x1 + 30, ya - 30), (x1 + 30, ya - 30 + h), (x1, ya + h)], shade(col, 0.82))
    # cocoa dusting dots
    for (dx, dy) in ((40, 2), (90, 10), (150, 0), (200, 8), (70, -4), (175, -6), (120, 6)):
        cv.circle(x0 + dx, y0 + dy, 4, shade(cocoa, 0.7))
    # mint leaf
    cv.ellipse((x0 + 120, y0 - 14, x0 + 160, y0 + 4), (76, 160, 96))


def draw_cinnamon_roll(cv: Canvas, bg):
    plate(cv, bg)
    dough, swirl, icing = (224, 168, 96), (150, 86, 40), (252, 248, 240)
    cx, cy = 240, 258
    cv.ellipse((cx - 140, cy - 100, cx + 140, cy + 100), shade(dough, 0.82))
    cv.ellipse((cx - 136, cy - 108, cx + 136, cy + 88), dough)
    # spiral
    pts = []
    for k in range(0, 721):
        a = math.radians(k * 1.5)
        r = 6 + k * 0.155
        pts.append((cx + r * math.cos(a), cy - 10 + r * 0.72 * math.sin(a)))
    cv.line(pts, swirl, 9)
    # icing drizzle
    cv.line([(cx - 110, cy - 40), (cx - 40, cy - 80), (cx + 30, cy - 30), (cx + 100, cy - 70)], icing, 10)
    cv.line([(cx - 100, cy + 30), (cx - 20, cy - 10), (cx + 60, cy + 40), (cx + 115, cy + 5)], icing, 10)


def draw_sandwich(cv: Canvas, bg):
    plate(cv, bg)
    bread, crust = (246, 226, 182), (196, 140, 74)
    lettuce, tomato, ham = (118, 186, 76), (222, 70, 56), (242, 160, 160)
    # two stacked triangular halves
    def half(ox, oy):
        a, b, c = (ox, oy + 150), (ox + 210, oy + 150), (ox + 40, oy)
        cv.poly([a, b, c], crust)
        cv.poly([(a[0] + 8, a[1] - 6), (b[0] - 16, b[1] - 6), (c[0] + 4, c[1] + 14)], bread)
        # filling stripe along the cut edge
        cv.poly([(a[0], a[1]), (b[0], b[1]), (b[0], b[1] + 14), (a[0], a[1] + 14)], lettuce)
        cv.poly([(a[0] + 6, a[1] + 14), (b[0] - 6, b[1] + 14), (b[0] - 6, b[1] + 26), (a[0] + 6, a[1] + 26)], tomato)
        cv.poly([(a[0] + 4, a[1] + 26), (b[0] - 4, b[1] + 26), (b[0] - 4, b[1] + 38), (a[0] + 4, a[1] + 38)], ham)
        cv.poly([(a[0], a[1] + 38), (b[0], b[1] + 38), (b[0], b[1] + 54), (a[0], a[1] + 54)], crust)
    half(100, 120)
    half(190, 150)


def draw_muffin(cv: Canvas, bg):
    ground_shadow(cv, 240, 392, 140, bg)
    liner, top = (226, 104, 118), (126, 78, 48)
    cx = 240
    cv.poly([(cx - 110, 230), (cx + 110, 230), (cx + 82, 385), (cx - 82, 385)], liner)
    for k in range(-4, 5):
        x_top = cx + k * 24
        x_bot = cx + k * 18
        cv.line([(x_top, 238), (x_bot, 380)], shade(liner, 0.82), 5)
    # domed top
    cv.ellipse((cx - 135, 110, cx + 135, 270), shade(top, 0.85))
    cv.ellipse((cx - 130, 100, cx + 130, 258), top)
    cv.ellipse((cx - 90, 120, cx + 20, 170), shade(top, 1.25))
    # chocolate chips / blueberries
    for (dx, dy) in ((-70, 200), (-20, 150), (40, 135), (80, 190), (10, 215), (-95, 160), (60, 230)):
        cv.ellipse((cx + dx - 10, dy - 8, cx + dx + 10, dy + 8), (58, 34, 26))


# --------------------------------------------------------------------------- catalog

PRODUCTS = {
    "latte":         ((214, 180, 140), drink_product((214, 180, 140), (150, 96, 56), foam=(238, 214, 180), art=WHITE)),
    "americano":     ((120, 150, 170), drink_product((120, 150, 170), (60, 34, 20))),
    "cappuccino":    ((196, 154, 120), drink_product((196, 154, 120), (140, 88, 50), foam=(250, 240, 226))),
    "flat-white":    ((168, 196, 184), drink_product((168, 196, 184), (160, 110, 66), foam=(232, 206, 170), art=(250, 244, 232))),
    "mocha":         ((150, 104, 90), drink_product((150, 104, 90), (90, 50, 32), foam=(120, 72, 46), art=(240, 226, 206))),
    "matcha-latte":  ((196, 222, 160), drink_product((196, 222, 160), (118, 168, 72), foam=(170, 206, 120), art=(246, 250, 236))),
    "cold-brew":     ((126, 176, 206), draw_cold_brew),
    "croissant":     ((246, 206, 140), draw_croissant),
    "bagel":         ((232, 196, 160), draw_bagel),
    "cheesecake":    ((242, 180, 170), draw_cheesecake),
    "tiramisu":      ((206, 176, 150), draw_tiramisu),
    "cinnamon-roll": ((236, 196, 150), draw_cinnamon_roll),
    "sandwich":      ((190, 214, 150), draw_sandwich),
    "muffin":        ((250, 214, 196), draw_muffin),
}


# Second photos (the product page's gallery): the milk drinks seen from above.
TOP_VIEWS = {
    "latte":        ((214, 180, 140), drink_top((214, 180, 140), (150, 96, 56), (238, 214, 180), art=WHITE)),
    "cappuccino":   ((196, 154, 120), drink_top((196, 154, 120), (140, 88, 50), (250, 240, 226))),
    "flat-white":   ((168, 196, 184), drink_top((168, 196, 184), (160, 110, 66), (232, 206, 170), art=(250, 244, 232))),
    "mocha":        ((150, 104, 90), drink_top((150, 104, 90), (90, 50, 32), (120, 72, 46), art=(240, 226, 206))),
    "matcha-latte": ((196, 222, 160), drink_top((196, 222, 160), (118, 168, 72), (170, 206, 120), art=(246, 250, 236))),
}


def make_product(slug: str, table=PRODUCTS, suffix: str = "") -> Path:
    bg, fn = table[slug]
    cv = Canvas(480, 480, bg)
    fn(cv, bg)
    path = PRODUCT_DIR / f"{slug}{suffix}.png"
    cv.save(path, limit=15 * 1024 - 1)
    return path


def make_store() -> Path:
    sky, wall, trim = (206, 230, 240), (246, 238, 224), (90, 72, 60)
    awn_a, awn_b = (214, 76, 64), (252, 248, 240)
    cv = Canvas(640, 360, sky)
    # pavement
    cv.rect((0, 320, 640, 360), (196, 190, 182))
    cv.rect((0, 316, 640, 322), (170, 164, 156))
    # building
    cv.rect((60, 60, 580, 320), wall)
    cv.rect((50, 48, 590, 70), trim)
    # sign board (blank)
    cv.rect((200, 80, 440, 118), trim, radius=8)
    cv.rect((210, 88, 430, 110), shade(trim, 1.4), radius=5)
    # awning stripes
    n = 13
    w = (560 - 80) / n
    for i in range(n):
        x = 80 + i * w
        col = awn_a if i % 2 == 0 else awn_b
        cv.poly([(x, 130), (x + w, 130), (x + w + 6, 176), (x - 6 + 0, 176)], col)
        cv.pieslice((x - 6, 160, x + w + 6, 192), 0, 180, col)
    # windows
    for x0 in (96, 420):
        cv.rect((x0, 200, x0 + 124, 300), trim, radius=6)
        cv.rect((x0 + 8, 208, x0 + 116, 292), (170, 210, 226), radius=4)
        cv.line([(x0 + 24, 280), (x0 + 60, 220)], (214, 236, 244), 8)
        cv.rect((x0 - 6, 298, x0 + 130, 308), shade(trim, 1.2))
    # door
    cv.rect((270, 196, 370, 320), trim, radius=8)
    cv.rect((280, 206, 360, 290), (170, 210, 226), radius=4)
    cv.circle(352, 262, 5, (236, 196, 80))
    # plants
    for px in (244, 396):
        cv.rect((px - 14, 290, px + 14, 320), (180, 110, 72))
        cv.circle(px, 280, 22, (96, 160, 90))
    path = IMG_DIR / "store.png"
    cv.save(path, limit=20 * 1024 - 1)
    return path


def make_logo() -> Path:
    # logo: green disc with a white cup glyph, transparent outside the disc
    cv = Canvas(128, 128, (255, 255, 255))
    green = (7, 193, 96)  # WeUI brand green
    cv.circle(64, 64, 62, green)
    # cup
    cv.poly([(36, 48), (84, 48), (78, 92), (42, 92)], WHITE)
    cv.ellipse((76, 54, 100, 80), WHITE)
    cv.ellipse((82, 60, 94, 74), green)
    cv.rect((30, 94, 90, 100), WHITE, radius=3)
    # steam
    cv.line([(50, 40), (54, 32), (50, 24)], WHITE, 4)
    cv.line([(66, 40), (70, 32), (66, 24)], WHITE, 4)
    path = IMG_DIR / "logo.png"
    # transparent corners: build alpha from a circle mask
    out = cv.img.resize((128, 128), Image.Resampling.LANCZOS)
    mask = Image.new("L", (512, 512), 0)  # 4x, downsampled for a smooth edge
    ImageDraw.Draw(mask).ellipse((8, 8, 503, 503), fill=255)
    mask = mask.resize((128, 128), Image.Resampling.LANCZOS)
    rgba = out.convert("RGBA")
    rgba.putalpha(mask)
    pal = rgba.quantize(colors=32, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    pal.save(path, format="PNG", optimize=True)
    return path


def main() -> int:
    written = [make_product(slug) for slug in PRODUCTS]
    written += [make_product(slug, TOP_VIEWS, "-top") for slug in TOP_VIEWS]
    written += [make_store(), make_logo()]
    for p in written:
        print(f"{p.stat().st_size:7d}  {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
