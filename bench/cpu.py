"""CPU seconds used by the server under test, per request: robust where wall-clock numbers are not (a
shared or busy machine). Linux /proc only; returns nothing elsewhere."""
from __future__ import annotations

import os
import resource
import time

import sqlalchemy as sa

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


class Meter:
    """Snapshots CPU of gunicorn (master + workers), of the PostgreSQL backends serving the benchmark's
    database, and of this process's finished children (wrk) plus this process (the Python client)."""

    def __init__(self, gunicorn_pid: int, db_url: str | None):
        self.gunicorn_pid = gunicorn_pid
        self.engine = sa.create_engine(db_url) if db_url and db_url.startswith("postgresql") else None
        self.conn = self.engine.connect() if self.engine else None
        if self.conn is not None:
            self.conn.execution_options(isolation_level="AUTOCOMMIT")

    def _pg_pids(self) -> list[int]:
        if self.conn is None:
            return []
        return list(self.conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )).scalars())

    def snapshot(self) -> dict:
        app = {p: _cpu(p) for p in [self.gunicorn_pid, *_children(self.gunicorn_pid)]}
        db = {p: _cpu(p) for p in self._pg_pids()}
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"app": app, "db": db, "client": children.ru_utime + children.ru_stime + time.process_time(),
                "wall": time.monotonic()}

    @staticmethod
    def delta(a: dict, b: dict) -> dict:
        def part(key):
            return sum((v or 0) - (a[key].get(p) or 0) for p, v in b[key].items() if v is not None)
        return {"app": part("app"), "db": part("db"), "client": b["client"] - a["client"], "wall": b["wall"] - a["wall"]}

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.engine.dispose()
