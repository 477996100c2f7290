"""Jinja filters: money in yuan, times in Asia/Shanghai (through Babel, in the page's locale)."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Flask, request

from app.core.clock import format_shanghai, month_day_time
from app.core.i18n import current_lang
from app.core.money import yuan, yuan_short


def shanghai(value: datetime | None, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    """`value` in Asia/Shanghai by a Babel (CLDR) pattern: 'yyyy-MM-dd HH:mm', 'MM-dd', 'HH:mm:ss'."""
    if "%" in pattern:
        raise ValueError(f"shanghai takes a CLDR pattern (yyyy-MM-dd HH:mm), not strftime: {pattern!r}")
    return format_shanghai(value, pattern, current_lang())


def md_hm(value: datetime | None) -> str:
    """'11月23日 14:02' ('Nov 23 14:02' in English), the way the counter names a moment."""
    return month_day_time(value, current_lang())


def with_lang(lang: str) -> str:
    """This page's address in `lang`, its other arguments kept (the language switch's link)."""
    args = request.args.to_dict()
    args["lang"] = lang
    return f"{request.path}?{urlencode(args)}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(yuan=yuan, yuan_short=yuan_short, shanghai=shanghai, md_hm=md_hm)
    app.jinja_env.globals["with_lang"] = with_lang
