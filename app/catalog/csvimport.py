"""CSV import, whatever the rows are (stock, products): upload → preview → apply in one transaction.

- `keep()` stores the uploaded file (ImportUpload); the preview and the apply both read that copy, so the
  browser never carries the data, and the apply checks every row again (the catalog may have changed since
  the preview).
- An `Importer` says which columns a file has and, per row, what applying it would do (`check`: created,
  updated, unchanged, or a `RowError` naming the column), without writing; `apply_rows` then writes them.
- `preview()` checks every row; `apply()` checks them again and writes all of them, or none: a row in error
  refuses the whole file (`ImportHasErrors`) unless the merchant excluded it by its row number. The upload is
  marked applied by a conditional UPDATE, so a second apply (a double click) is refused, not run twice.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable, Protocol, Sequence

import sqlalchemy as sa

from app.catalog.models import ImportUpload
from app.core.clock import now_utc
from app.core.errors import BadRequest, Conflict, NotFound
from app.extensions import db
from app.merchants.scope import Scope, register

MAX_ROWS = 20_000

# A store manager sees their own uploads only.
register(ImportUpload, lambda scope: [ImportUpload.staff_id == scope.staff_id])


class CsvUnreadable(BadRequest):
    code = "csv_unreadable"
    zh = "无法读取该 CSV 文件：{reason}"
    en = "This CSV file cannot be read: {reason}"


class ImportHasErrors(Conflict):
    code = "import_has_errors"
    zh = "有 {count} 行有错误：请修正文件后重新上传，或勾选排除这些行。"
    en = "{count} rows have errors: fix the file and upload it again, or exclude those rows."


class AlreadyApplied(Conflict):
    code = "import_already_applied"
    zh = "该文件已导入。"
    en = "This file has already been imported."


class RowError(Exception):
    """A row that cannot be applied: which column, and why (zh, en)."""

    def __init__(self, column: str, zh: str, en: str):
        super().__init__(en)
        self.column, self.zh, self.en = column, zh, en

    def message(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


@dataclass
class RowResult:
    line: int  # the row number in the file (header: 1)
    values: dict[str, str]
    status: str = "unchanged"  # created, updated, unchanged, error, excluded
    error: RowError | None = None
    before: Any = None
    after: Any = None
    plan: Any = None  # what apply_row needs (the importer's own)
    label: str = ""  # what the row is about, for people (store and SKU, product and SKU)

    @property
    def column(self) -> str | None:
        return self.error.column if self.error else None


class Importer(Protocol):
    kind: str
    columns: Sequence[str]  # in the order an export writes them
    required: Sequence[Sequence[str]]  # per entry, one of these columns; a file without it is refused whole

    def check(self, rows: list[RowResult]) -> None:
        """Fill each row's status, before/after and plan (or its error), reading, never writing."""

    def apply_rows(self, rows: list[RowResult]) -> None:
        """Write the checked rows that change something (created or updated), in file order."""

    def record(self, rows: list[RowResult], upload: ImportUpload) -> None:
        """Record the applied import in the audit log."""


@dataclass
class Outcome:
    rows: list[RowResult]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == "error"]


def decode(content: bytes) -> str:
    """UTF-8 (with or without the BOM our exports carry), else GB18030: what Excel saves on a Chinese PC."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CsvUnreadable(reason="编码不是 UTF-8 或 GBK", field="file")


def read_rows(importer: Importer, content: bytes) -> list[RowResult]:
    text = decode(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CsvUnreadable(reason="文件为空", field="file") from None
    except csv.Error as exc:
        raise CsvUnreadable(reason=str(exc), field="file") from None
    missing = [" / ".join(names) for names in importer.required if not any(n in header for n in names)]
    if missing:
        raise CsvUnreadable(reason="缺少列 " + ", ".join(missing), field="file", missing=missing)
    rows: list[RowResult] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvUnreadable(reason=f"超过 {MAX_ROWS} 行", field="file")
            values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header) if name}
            rows.append(RowResult(line=line, values=values))
    except csv.Error as exc:
        raise CsvUnreadable(reason=f"第 {reader.line_num} 行：{exc}", field="file") from None
    return rows


def write_rows(importer: Importer, rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """The export: a header of the importer's columns, then the rows (what `read_rows` reads back)."""
    return [list(importer.columns), *([("" if v is None else v) for v in row] for row in rows)]


# ------------------------------------------------------------------------------------------- the steps

def keep(scope: Scope, kind: str, filename: str, content: bytes) -> ImportUpload:
    upload = ImportUpload(merchant_id=scope.merchant_id, staff_id=scope.staff_id, kind=kind,
                          filename=(filename or "")[:255], sha256=hashlib.sha256(content).hexdigest(), content=content)
    db.session.add(upload)
    db.session.flush()
    return upload


KEEP_UPLOADS = timedelta(days=7)


def forget_old_uploads(now: datetime) -> int:
    """Uploaded files are kept for their preview and apply, then a week for a late second click to be told it
    was applied; after that they are deleted (the audit log keeps what each apply changed)."""
    return db.session.execute(sa.delete(ImportUpload).where(ImportUpload.created_at < now - KEEP_UPLOADS)
                              .execution_options(synchronize_session=False)).rowcount


def upload_of(scope: Scope, kind: str, upload_id: int) -> ImportUpload:
    upload = scope.get(ImportUpload, upload_id)
    if upload.kind != kind:
        raise NotFound()
    return upload


def _checked(importer: Importer, upload: ImportUpload, exclude: Iterable[int]) -> Outcome:
    rows = read_rows(importer, upload.content)
    excluded = set(exclude)
    kept = [r for r in rows if r.line not in excluded]
    importer.check(kept)
    for row in rows:
        if row.line in excluded:
            row.status = "excluded"
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    return Outcome(rows, counts)


def preview(importer: Importer, upload: ImportUpload, exclude: Iterable[int] = ()) -> Outcome:
    return _checked(importer, upload, exclude)


def apply(importer: Importer, upload: ImportUpload, exclude: Iterable[int] = ()) -> Outcome:
    """Checks every row again and writes them all; refused whole while a row not excluded is in error, and
    for an upload applied before. The caller's transaction holds it all (services flush, the request commits)."""
    outcome = _checked(importer, upload, exclude)
    if outcome.errors:
        raise ImportHasErrors(count=len(outcome.errors), lines=[r.line for r in outcome.errors][:50])
    claimed = db.session.execute(
        sa.update(ImportUpload).where(ImportUpload.id == upload.id, ImportUpload.applied_at.is_(None))
        .values(applied_at=now_utc()).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise AlreadyApplied()
    importer.apply_rows([row for row in outcome.rows if row.status in ("created", "updated")])
    importer.record(outcome.rows, upload)
    return outcome
