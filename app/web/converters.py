"""URL converters. `<id:name>` is a row id: digits within the range of our id columns (SQLAlchemy `Integer`
primary keys, a 32-bit `integer` on PostgreSQL), so an id no row can have is a plain 404 before any query,
never a database overflow."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

ID_MAX = 2**31 - 1  # PostgreSQL `integer`; SQLite would take 2**63 - 1, but the schema is the same on both


class IdConverter(IntegerConverter):
    regex = r"[0-9]{1,10}"  # ASCII digits only (\d would take other scripts' digits too)

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=ID_MAX)


def parse_id(raw) -> int | None:
    """An id from a form, a query or a cookie (or one we stored, an int): ASCII digits within the id columns'
    range, else None."""
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None
