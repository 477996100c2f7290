"""UI language: Simplified Chinese by default, English on request (?lang=en, remembered in a cookie).

Text lives in gettext catalogs (`translations/`, Flask-Babel). The msgid is the Chinese text itself, so
templates stay readable (`{{ _("门店") }}`) and a missing English entry falls back to Chinese rather than
to nothing; `tests/test_i18n.py` fails when one is missing. Strings that are picked at run time (labels in
dicts, flash messages) are marked with `N_("…")` where they are written (the order pages list theirs in
`app.web.shop.orders.SHOWN_LABELS`), so `make i18n` extracts them too, and translated where they are shown
(`_(label)`).

Strings with `{name}` placeholders are filled with `.format()` after translation; the English keeps the same
placeholders. A shown count uses `ngettext("{n} 条评价", "{n} 条评价", n).format(n=n)` ("1 review", "2 reviews").
Dates and times go through Babel in Asia/Shanghai (`app.core.clock.format_shanghai`, the jinja filters in
`app.core.templating`). `make i18n` re-extracts the catalogs; see the README's development notes.
"""
from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations
from flask import Flask, g, has_app_context, request
from flask_babel import get_translations, lazy_gettext, refresh

from app.core.clock import LOCALES as _BABEL_LOCALES, SHANGHAI
from app.extensions import babel

__all__ = ["LANGS", "LOCALES", "N_", "colon", "current_lang", "gettext", "lazy_gettext", "locale_of",
           "ngettext", "npgettext", "parens", "pgettext"]

LANGS = ("zh", "en")
# The Babel locale behind each UI language: its catalog in translations/ and its date formats.
LOCALES = {lang: str(locale) for lang, locale in _BABEL_LOCALES.items()}
TIMEZONE = SHANGHAI.key
TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def _translations():
    """This request's catalog, looked up once per request: Flask-Babel's own gettext() costs ~15 µs a call
    (it resolves domain, locale and cache every time), which a page with 40 strings would feel."""
    try:
        return g._translations
    except AttributeError:  # the first string of this request
        if not has_app_context():
            return _NO_TRANSLATIONS
        g._translations = get_translations()
        return g._translations
    except RuntimeError:  # no app context: the source text
        return _NO_TRANSLATIONS


_NO_TRANSLATIONS = NullTranslations()


def gettext(text: str, **variables) -> str:
    """`text` (Chinese) in the page's language; %(name)s variables as in Flask-Babel (we use .format())."""
    out = _translations().ugettext(text)
    return out % variables if variables else out


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """The form for `num`: ngettext("{n} 条评价", "{n} 条评价", n).format(n=n) -> '1 review', '2 reviews'."""
    out = _translations().ungettext(singular, plural, num)
    return out % variables if variables else out


def pgettext(context: str, text: str, **variables) -> str:
    """`text` in a context, where one Chinese word needs two English ones: pgettext("action", "撤销核销")."""
    out = _translations().upgettext(context, text)
    return out % variables if variables else out


def npgettext(context: str, singular: str, plural: str, num: int, **variables) -> str:
    out = _translations().unpgettext(context, singular, plural, num)
    return out % variables if variables else out


def N_(text: str) -> str:
    """Mark a string for extraction without translating it here; it is translated where it is shown."""
    return text


def pick_lang() -> str:
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get("lang")
    if cookie in LANGS:
        return cookie
    return "zh"


def current_lang() -> str:
    try:
        return g.lang
    except AttributeError:
        return "zh"


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["zh"])


def colon() -> str:
    """'：' in Chinese text, ': ' in English."""
    return ": " if current_lang() == "en" else "："


def parens(text: str) -> str:
    """'（text）' in Chinese text, ' (text)' in English."""
    return f" ({text})" if current_lang() == "en" else f"（{text}）"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES["zh"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, locale_selector=lambda: locale_of(current_lang()), timezone_selector=lambda: TIMEZONE)

    @app.before_request
    def _set_lang():
        g.lang = pick_lang()
        # Flask-Babel keeps the locale on `g`, which outlives a request when an app context was already open.
        refresh()
        g.pop("_translations", None)

    @app.after_request
    def _remember_lang(response):
        asked = request.args.get("lang")
        if asked in LANGS:
            response.set_cookie("lang", asked, max_age=365 * 86400, samesite="Lax")
        return response

    # Plain str in, plain str out (autoescaped when printed), like the Python side; not Jinja's newstyle
    # gettext that Flask-Babel installs, which would apply %-formatting to every string.
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext, pgettext=pgettext,
                                 npgettext=npgettext, current_lang=current_lang, colon=colon, parens=parens)
