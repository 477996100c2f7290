"""Every string the UI shows has its English: the gettext catalogs (templates and code, extracted the way
`make i18n` does) and the refusals (DomainError's zh/en pairs). Also: the compiled catalogs match the .po
files, and moments are named in Shanghai time through Babel."""
from __future__ import annotations

import importlib
import pkgutil
import string
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

import app as app_package
from app.core.clock import month_day_time
from app.core.errors import DomainError

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "translations"
# The same keywords as EXTRACT_OPTS in the Makefile.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}
SOURCES = {"app", "templates"}


def extracted() -> dict[tuple[str | None, str], tuple]:
    """(context, msgid) -> (plural msgid or None, where it was found), as pybabel extract sees them."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    found: dict[tuple[str | None, str], tuple] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS,
            directory_filter=lambda d: Path(d).relative_to(ROOT).parts[0] in SOURCES):
        msgid, plural = (message[0], message[1]) if isinstance(message, tuple) else (message, None)
        if msgid:
            found.setdefault((context, msgid), (plural, f"{filename}:{lineno}"))
    return found


def load(locale: str) -> Catalog:
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=locale)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def missing_english(catalog: Catalog, found: dict) -> list[str]:
    """One line per extracted string without a usable English entry."""
    problems = []
    for (context, msgid), (plural, where) in sorted(found.items(), key=lambda kv: kv[1][1]):
        label = f"{where}: {msgid!r}" + (f" (context {context!r})" if context else "")
        entry = catalog.get(msgid if plural is None else (msgid, plural), context)
        if entry is None:
            problems.append(f"{label} is not in the en catalog (run `make i18n`, then translate it)")
            continue
        forms = entry.string if isinstance(entry.string, (list, tuple)) else [entry.string]
        if not all(forms):
            problems.append(f"{label} has no English")
        elif entry.fuzzy:
            problems.append(f"{label} is fuzzy: check its English and remove the fuzzy flag")
        elif any(placeholders(form) != placeholders(msgid) for form in forms):
            problems.append(f"{label}: the English {forms!r} has other {{placeholders}} than the Chinese")
    return problems


def test_every_string_in_templates_and_code_has_english():
    found = extracted()
    assert len(found) > 250, "extraction found too little: is babel.cfg still right?"
    problems = missing_english(load("en"), found)
    assert not problems, "Strings without English:\n" + "\n".join(problems)


def test_a_missing_or_fuzzy_english_entry_is_reported():
    found = extracted()
    catalog = load("en")
    some_plural = next(k for k, (plural, _) in found.items() if plural)
    catalog.delete("确认核销")
    catalog.get("退款原因").string = ""
    catalog.get("取货码").flags.add("fuzzy")
    catalog.get(("{n} 条评价", "{n} 条评价")).string = ("{n} review", "")
    catalog.get("配送范围 {m} 米内").string = "Delivers within {km} km"
    problems = "\n".join(missing_english(catalog, found))
    assert "'确认核销' is not in the en catalog" in problems
    assert "'退款原因' has no English" in problems
    assert "'取货码' is fuzzy" in problems
    assert "'{n} 条评价' has no English" in problems and some_plural
    assert "'配送范围 {m} 米内': the English" in problems


def test_the_chinese_catalog_holds_the_same_strings():
    found = extracted()
    catalog = load("zh_Hans_CN")
    missing = [msgid for (context, msgid) in found if catalog.get(msgid, context) is None
               and catalog.get((msgid, found[(context, msgid)][0]), context) is None]
    assert not missing, f"not in the zh_Hans_CN catalog (run `make i18n`): {missing}"


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
def test_the_compiled_catalog_is_up_to_date(locale):
    mo = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"
    assert mo.exists(), f"{mo} is missing: `make setup` (or `make test`) compiles the catalogs"
    fresh = BytesIO()
    write_mo(fresh, load(locale))
    fresh.seek(0)
    with open(mo, "rb") as f:
        compiled = Translations(f)
    assert compiled._catalog == Translations(fresh)._catalog, (
        f"{mo} is older than its .po: run `make setup` (or `make i18n`) to compile it")


def _import_all_app_modules() -> None:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_refusal_has_english():
    _import_all_app_modules()
    errors = _subclasses(DomainError)
    assert len(errors) > 30, "fewer DomainError subclasses than expected: were all modules imported?"
    problems = []
    for cls in [DomainError, *errors]:
        name = f"{cls.__module__}.{cls.__qualname__}"
        # (The two may name different details: the English of a moment or a status is a detail of its own.)
        if (cls.zh or "").strip() and not (cls.en or "").strip():
            problems.append(f"{name} has zh {cls.zh!r} but no en")
    assert not problems, "\n".join(problems)


def test_every_refusal_raised_with_its_own_sentence_has_english():
    """`raise BadRequest(zh="…", en="…")`: a call that passes zh= passes a non-empty en= too."""
    import ast

    problems = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                kw = {k.arg: k.value for k in node.keywords if k.arg}
                if "zh" in kw and (
                        "en" not in kw or isinstance(kw["en"], ast.Constant) and not str(kw["en"].value).strip()):
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: zh= without en=")
    assert not problems, "\n".join(problems)


def test_labels_chosen_at_run_time_have_english(app):
    """Labels kept in tables and shown through `_(label)` are not found by extraction where they are written
    (app.web.shop.orders lists them in SHOWN_LABELS): each must still come out in English."""
    from app.core.i18n import gettext
    from app.merchants.hours import DAY_LABELS
    from app.orders import progress
    from app.pricing.quote import ADJUSTMENT_LABELS
    from app.orders.models import DELIVERY_STATUS_LABELS, STATUS_LABELS
    from app.web.payments import PAYMENT_FAILED
    from app.web.shop import orders as pages

    labels = {*STATUS_LABELS.values(), *DELIVERY_STATUS_LABELS.values(), *pages.REFUND_REASONS,
              *pages.DELIVERY_REFUND_REASONS, *progress.EVENT_NOTES.values(), *progress.DELIVERY_EVENT_NOTES.values(),
              "退款处理中", "退款失败", *DAY_LABELS, *ADJUSTMENT_LABELS.values(), PAYMENT_FAILED}
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        untranslated = sorted(label for label in labels if gettext(label) == label)
    assert not untranslated, f"shown in English as Chinese (add N_() and run `make i18n`): {untranslated}"


def test_english_pages_read_the_catalog(client, world):
    english = client.get("/counter/login?lang=en").get_data(as_text=True)
    chinese = client.get("/counter/login?lang=zh").get_data(as_text=True)
    assert "Staff sign in to redeem customers&#39; vouchers" in english and "店员登录后核销顾客的券" not in english
    assert "店员登录后核销顾客的券" in chinese


MOMENT = datetime(2026, 11, 3, 1, 5, tzinfo=timezone.utc)  # 09:05 on 3 November in Shanghai


def test_a_moment_is_named_in_shanghai_time_as_before():
    assert month_day_time(MOMENT) == "11月3日 09:05"
    assert month_day_time(MOMENT, "en") == "Nov 3 09:05"
    assert month_day_time(datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)) == "11月23日 14:00"
    assert month_day_time(None) == ""


def test_the_shanghai_filter_takes_cldr_patterns(app):
    from app.core.templating import shanghai

    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert shanghai(MOMENT) == "2026-11-03 09:05"
        assert shanghai(MOMENT, "MM-dd HH:mm:ss") == "11-03 09:05:00"
        with pytest.raises(ValueError, match="CLDR"):
            shanghai(MOMENT, "%m-%d")
