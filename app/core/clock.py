"""One clock for the whole app. Tests freeze it with `freeze(...)`; nothing else calls datetime.now()."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The Babel locale of each UI language: its date formats here, its catalog in translations/ (app.core.i18n).
LOCALES = {"zh": Locale.parse("zh_Hans_CN"), "en": Locale.parse("en")}
# How people name a moment, as a Babel (CLDR) pattern per UI language.
MONTH_DAY_TIME = {"zh": "M月d日 HH:mm", "en": "MMM d HH:mm"}

_frozen: datetime | None = None


def now_utc() -> datetime:
    if _frozen is not None:
        return _frozen
    return datetime.now(timezone.utc)


def freeze(at: datetime | None) -> None:
    """Freeze (or with None, unfreeze) the clock. `at` must be timezone-aware."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(timezone.utc) if at else None


def advance(delta: timedelta) -> datetime:
    global _frozen
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    _frozen = _frozen + delta
    return _frozen


def to_shanghai(value: datetime) -> datetime:
    return value.astimezone(SHANGHAI)


def format_shanghai(value: datetime | None, pattern: str, lang: str = "zh") -> str:
    """`value` in Asia/Shanghai by a Babel (CLDR) pattern ('yyyy-MM-dd HH:mm'), in the UI language's locale."""
    if value is None:
        return ""
    return format_datetime(value, pattern, tzinfo=SHANGHAI, locale=LOCALES.get(lang, LOCALES["zh"]))


def month_day_time(value: datetime | None, lang: str = "zh") -> str:
    """A moment as people name it, in Shanghai time: '11月23日 14:02', or 'Nov 23 14:02' in English."""
    return format_shanghai(value, MONTH_DAY_TIME.get(lang, MONTH_DAY_TIME["zh"]), lang)


def shanghai_today(at: datetime | None = None) -> date:
    return to_shanghai(at or now_utc()).date()


def start_of_day(day: date) -> datetime:
    """The UTC instant at which `day` begins in Asia/Shanghai."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(timezone.utc)


def end_of_day(day: date) -> datetime:
    """The UTC instant at which `day` ends in Asia/Shanghai (exclusive bound: the next day's start)."""
    return start_of_day(day + timedelta(days=1))


def parse_instant(text: str, *, end_of_date: bool = False) -> datetime:
    """Parse ISO-8601 from a client. A bare date means the start (or, with end_of_date, the end) of that
    day in Asia/Shanghai; a datetime without offset is Shanghai local time."""
    text = text.strip()
    if len(text) == 10:
        day = date.fromisoformat(text)
        return end_of_day(day) if end_of_date else start_of_day(day)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, for JSON."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
