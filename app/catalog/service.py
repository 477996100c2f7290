"""The shop's catalog rules as plain functions: distance to a store, stock levels, how a review is shown.
No queries here: `app.catalog.snapshot` reads the catalog. Prices: `app.pricing`; opening hours:
`app.merchants.hours`."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from typing import Any

from app.core.i18n import N_

LOW_STOCK = 5  # "仅剩 N 件" at or below this
EARTH_RADIUS_M = 6_371_000


# --- stores -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NearbyStore:
    store: Any  # a Store or a snapshot's StoreView
    distance_m: float | None  # None when the shopper's position is unknown


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def format_distance(metres: float | None) -> str:
    """850 -> '850 m', 1234 -> '1.2 km', 123456 -> '123 km'."""
    if metres is None:
        return ""
    if metres < 1000:
        return f"{int(round(metres, -1))} m"
    km = metres / 1000
    return f"{km:.1f} km" if km < 100 else f"{km:.0f} km"


def stores_near(stores, position: tuple[float, float] | None) -> list[NearbyStore]:
    """The stores, nearest first when `position` (lat, lng) is known, else in the order given. A merchant
    has a handful of stores, so distances are computed here rather than in SQL."""
    if position is None:
        return [NearbyStore(s, None) for s in stores]
    lat, lng = position
    near = [NearbyStore(s, haversine_m(lat, lng, s.latitude, s.longitude)) for s in stores]
    return sorted(near, key=lambda n: (n.distance_m, n.store.id))


# --- stock ------------------------------------------------------------------------------------------

def stock_level(quantity: int) -> str:
    """'out' (已售罄), 'low' (仅剩 N 件) or 'ok' (有货)."""
    if quantity <= 0:
        return "out"
    return "low" if quantity <= LOW_STOCK else "ok"


# --- reviews ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewSummary:
    count: int
    average: float | None  # rounded to one decimal

    @property
    def stars(self) -> int:
        return int(round(self.average or 0))


@dataclass(frozen=True)
class ReviewView:
    rating: int
    body: str
    author: str
    created_at: datetime


def mask_name(name: str) -> str:
    """'张小明' -> '张**': reviews are public, nicknames are not. The page translates the result (匿名)."""
    name = (name or "").strip()
    if not name:
        return N_("匿名")
    return name[0] + "**"
