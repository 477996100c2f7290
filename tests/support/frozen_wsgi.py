"""wsgi:app with the app clock frozen at $O2O_FROZEN_AT (ISO-8601 with an offset), for browser tests that
need a moment of day (a store open past midnight at 01:00). Test-only: production never reads the variable.

    gunicorn_process(env, app="tests.support.frozen_wsgi:app")   # env["O2O_FROZEN_AT"] = "2026-11-23T01:00:00+08:00"
"""
from __future__ import annotations

import os
from datetime import datetime

from app.core import clock

clock.freeze(datetime.fromisoformat(os.environ["O2O_FROZEN_AT"]))

from wsgi import app  # noqa: E402  (after the freeze, so nothing reads the real clock first)

__all__ = ["app"]
