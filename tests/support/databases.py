"""Fresh, empty databases for tests that need their own (schema check, live servers, races) and for the
benchmarks (bench/).

SQLite: a file in a temp folder. PostgreSQL (TEST_DATABASE_URL set, or a PostgreSQL `server_url` passed):
a new database on the same server, dropped afterwards.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

from app.config import normalise_db_url


def base_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def engine_name(url: str | None = None) -> str:
    url = url if url is not None else base_url()
    return "postgresql" if url and url.startswith(("postgres", "postgresql")) else "sqlite"


@contextlib.contextmanager
def fresh_database(label: str = "t", server_url: str | None = None):
    """Yields the SQLAlchemy URL of a new empty database.

    `server_url`: where to make it (a PostgreSQL URL, or "sqlite"); default TEST_DATABASE_URL, else SQLite.
    """
    url = server_url or base_url()
    if not url or engine_name(url) == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"o2o-{label}-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'db.sqlite3'}"
        return
    url = normalise_db_url(url, Path(tempfile.gettempdir()))
    name = f"o2o_{label}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
