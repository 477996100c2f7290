"""Jinja filters: money in yuan, times in Asia/Shanghai."""
from __future__ import annotations

from datetime import datetime

from flask import Flask

from app.core.clock import month_day_time, to_shanghai
from app.core.i18n import current_lang
from app.core.money import yuan, yuan_short


def shanghai(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return to_shanghai(value).strftime(fmt)


def md_hm(value: datetime | None) -> str:
    """'11月23日 14:02' ('Nov 23 14:02' in English), the way the counter names a moment."""
    return month_day_time(value, current_lang())


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(yuan=yuan, yuan_short=yuan_short, shanghai=shanghai, md_hm=md_hm)
