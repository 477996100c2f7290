"""The console's CSV import pages, whatever is imported (stock, products): upload, preview, apply. The steps
and their rules are app.catalog.csvimport's; each import names its importer and its pages."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import g, redirect, render_template, request, url_for

from app.catalog import csvimport
from app.core.database import rollback
from app.core.errors import BadRequest, DomainError
from app.web.console.guard import scope

PREVIEW_ROWS = 500  # changed rows listed on a preview (every error is listed)


@dataclass(frozen=True)
class ImportPages:
    importer: Callable[[Any], Any]  # scope -> an Importer
    kind: str
    columns: tuple[str, ...]
    title: str  # N_() msgids, translated on the page
    intro: str
    back_endpoint: str
    preview_endpoint: str
    apply_endpoint: str
    id_arg: str = "upload_id"  # the routes' name for the upload's id

    def render(self, status: int = 200, **context):
        context.setdefault("upload", None)
        context.setdefault("outcome", None)
        upload = context["upload"]
        apply_url = url_for(self.apply_endpoint, **{self.id_arg: upload.id}) if upload else None
        return render_template("console/csv_import.html", page_title=self.title, intro=self.intro,
                               columns=self.columns, back_endpoint=self.back_endpoint, apply_url=apply_url,
                               **context), status

    def upload(self):
        if request.method == "POST":
            file = request.files.get("file")
            content = file.read() if file else b""
            if not content:
                error = BadRequest(field="file", zh="请选择 CSV 文件。", en="Choose a CSV file.")
                return self.render(400, error=error.message(g.lang))
            upload = csvimport.keep(scope(), self.kind, file.filename or "", content)
            return redirect(url_for(self.preview_endpoint, **{self.id_arg: upload.id}))
        return self.render()

    def preview(self, upload_id: int):
        upload = csvimport.upload_of(scope(), self.kind, upload_id)
        return self._preview(upload, excluded(request.args.getlist("exclude")))

    def _preview(self, upload, exclude, *, error=None, status=200):
        try:
            outcome = csvimport.preview(self.importer(scope()), upload, exclude)
        except csvimport.CsvUnreadable as exc:
            return self.render(400, upload=upload, error=exc.message(g.lang))
        changed = [r for r in outcome.rows if r.status in ("created", "updated")][:PREVIEW_ROWS]
        return self.render(status, outcome=outcome, upload=upload, exclude=exclude, changed=changed, error=error,
                           shown=PREVIEW_ROWS)

    def apply(self, upload_id: int):
        upload = csvimport.upload_of(scope(), self.kind, upload_id)
        exclude = excluded(request.form.getlist("exclude"))
        try:
            outcome = csvimport.apply(self.importer(scope()), upload, exclude)
        except DomainError as exc:
            rollback()
            upload = csvimport.upload_of(scope(), self.kind, upload_id)
            return self._preview(upload, exclude, error=exc.message(g.lang), status=exc.status)
        return self.render(outcome=outcome, upload=upload, applied=True, exclude=exclude, changed=[], shown=0)


def excluded(values) -> list[int]:
    return sorted({int(v) for v in values if v.strip().isdigit() and int(v) < 2**31})
