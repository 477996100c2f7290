"""Databases and servers for the benchmarks: a fresh database, `flask db upgrade` + the demo, and gunicorn
serving `bench.bench_app:app` (the real app plus the baseline endpoints).

Thin settings over tests/support (the live tests start their servers the same way): here the database
is PostgreSQL or SQLite by choice rather than by TEST_DATABASE_URL, the rate limits are out of reach,
and gunicorn imports the app once before forking.
"""
from __future__ import annotations

import contextlib
import os

from tests.support import databases, live
from tests.support.live import flask, prepare

__all__ = ["DEFAULT_PG", "HIGH_LIMIT", "app_env", "flask", "fresh_database", "gunicorn", "prepare"]

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# High enough that no limit is ever reached: codes are valid, but the allowance is still checked.
HIGH_LIMIT = "1000000/minute"


@contextlib.contextmanager
def fresh_database(engine: str, admin_url: str | None = None):
    """Yields the SQLAlchemy URL of a new empty database (PostgreSQL: on `admin_url`, else
    BENCH_DATABASE_URL, else DEFAULT_PG; SQLite: a temporary file); drops (or deletes) it afterwards."""
    server_url = "sqlite" if engine == "sqlite" else (admin_url or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG)
    with databases.fresh_database("bench", server_url) as url:
        yield url


DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


def redis_for(engine: str, asked: str | None) -> str:
    """As deployed: PostgreSQL with Redis (tries counted there), SQLite alone (tries counted in the database)."""
    if asked is not None:
        return "" if asked == "none" else asked
    return os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS) if engine == "postgresql" else ""


def app_env(db_url: str, *, redis_url: str = "", **extra: str) -> dict:
    return live.app_env(db_url, **{
        "REDIS_URL": redis_url,
        "SECRET_KEY": "bench-secret",
        "LOG_LEVEL": "WARNING",  # no per-request log line
        "GUESS_LIMITS": HIGH_LIMIT,
        "GUESS_LIMITS_STORE": HIGH_LIMIT,
        "GUESS_LIMITS_IP": HIGH_LIMIT,
        **extra,
    })


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 4, timeout: float = 120.0, app: str = "bench.bench_app:app"):
    """Yields (base URL, process) of gunicorn with `workers` sync workers, all up before the first request
    (--preload: the app is imported once, before forking; nothing connects at import)."""
    with live.gunicorn_process(env, workers=workers, timeout=timeout, app=app, preload=True,
                               backlog=2048) as served:
        yield served
