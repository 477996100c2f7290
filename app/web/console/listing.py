"""Server-side lists: sort by a whitelisted column, paginate, export CSV (UTF-8 with BOM for Excel), and the
choices of a filter's <select> (templates/console/_list.html draws the page around them)."""
from __future__ import annotations

import csv
import enum
import io
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa
from flask import Response, request

from app.core.i18n import gettext
from app.extensions import db
from app.merchants.models import Store
from app.web.console.guard import scope

PER_PAGE = 20
MAX_CSV_ROWS = 100_000


@dataclass
class Page:
    rows: list[Any]
    page: int
    pages: int
    total: int
    sort: str
    desc: bool

    def args(self, **changes) -> dict[str, Any]:
        """The current query arguments with `changes` (for links to other pages or sorts)."""
        out = {k: v for k, v in request.args.items()}
        out.update({k: v for k, v in changes.items()})
        return out

    def sort_args(self, column: str) -> dict[str, Any]:
        desc = "0" if (self.sort == column and self.desc) else ("1" if self.sort == column else "0")
        return self.args(sort=column, desc=desc, page=1)


def sorted_query(query: sa.Select, sorts: dict[str, Any], default: str,
                 default_desc: bool = False, tiebreak: Sequence[Any] = ()) -> tuple[sa.Select, str, bool]:
    """`default_desc`: the default sort is newest first (orders, vouchers) until `desc=0` says otherwise;
    `tiebreak`: further columns when "id" alone is not unique (a row per store × SKU)."""
    sort = request.args.get("sort", default)
    if sort not in sorts:
        sort = default
    desc = request.args.get("desc", "1" if default_desc else "0") == "1"
    column = sorts[sort]
    order = [column.desc() if desc else column.asc()]
    if sort != "id" and "id" in sorts:
        order.append(sorts["id"].asc())  # a stable order across pages
    order.extend(tiebreak)  # when "id" alone is not unique (a row per store × SKU)
    return query.order_by(*order), sort, desc


def paginate(query: sa.Select, sorts: dict[str, Any], default: str, scalars: bool = True,
             default_desc: bool = False, tiebreak: Sequence[Any] = ()) -> Page:
    query, sort, desc = sorted_query(query, sorts, default, default_desc, tiebreak)
    return page_of(query, sort, desc, scalars)


def page_of(query: sa.Select, sort: str, desc: bool, scalars: bool = True) -> Page:
    """The page `?page=` asks for of an already ordered query (a list with one fixed order: the audit log)."""
    total = db.session.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    pages = max(1, -(-total // PER_PAGE))
    try:
        page = min(max(1, int(request.args.get("page", 1))), pages)
    except ValueError:
        page = 1
    result = db.session.execute(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE))
    rows = list(result.scalars() if scalars else result)
    return Page(rows, page, pages, total, sort, desc)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # BOM: Excel then reads the file as UTF-8 (Chinese names intact)
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    response = Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


def visible_stores() -> list[Store]:
    """The stores this person sees (a store manager: their own), in id order: a list's store filter."""
    return list(db.session.execute(scope().select(Store).order_by(Store.id)).scalars())


def choices(items: Mapping | Iterable, only: Iterable | None = None) -> list[tuple[Any, str]]:
    """(value, text) pairs for a filter's <select> (select_filter in templates/console/_list.html), from a label
    dict {enum member or str: N_("…")} (translated; `only`: these keys, in this order), from rows with an id
    and a name (stores, categories), or from strings shown as they are."""
    if isinstance(items, Mapping):
        keys = list(items) if only is None else list(only)
        return [(k.value if isinstance(k, enum.Enum) else k, gettext(items[k])) for k in keys]
    return [(item, item) if isinstance(item, str) else (item.id, item.name) for item in items]
