"""The catalog's background work: forget CSV uploads older than a week (app.catalog.csvimport)."""
from __future__ import annotations

from app.catalog import csvimport
from app.core import tasks
from app.core.clock import now_utc


@tasks.periodic("catalog.forget_old_uploads", hour="4", minute="17")
def forget_old_uploads() -> int:
    with tasks.transaction():
        return csvimport.forget_old_uploads(now_utc())
