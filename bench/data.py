"""Bulk-loads N issued single-use vouchers for the demo merchant, fast: PostgreSQL COPY, SQLite executemany.

Codes come from `app.vouchers.codes.generate()` (about 20 s per million on this machine); rows are what
`service.issue` would write (issued, 1 use, valid from yesterday for a year, all stores) minus the
`voucher_events` "issued" row, which the redeem path never reads.
"""
from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.vouchers import codes

COLUMNS = ("merchant_id", "code", "title", "handover", "value_fen", "note", "source", "status", "uses_total",
           "uses_left", "valid_from", "valid_until", "all_stores", "static_qr", "created_at", "updated_at")


def make_codes(n: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        c = codes.generate()
        if c not in seen:
            seen.add(c)
            out.append(c)
    return out


def _rows(merchant_id: int, all_codes: list[str]):
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)  # UTCDateTime stores naive UTC
    valid_from, valid_until = now - timedelta(days=1), now + timedelta(days=365)
    for c in all_codes:
        yield (merchant_id, c, "拿铁兑换券", "中杯拿铁 1 杯", 2800, "", "api", "issued", 1, 1,
               valid_from, valid_until, True, False, now, now)


def insert_vouchers(db_url: str, merchant_id: int, all_codes: list[str]) -> float:
    """Returns the seconds the insert (and ANALYZE) took."""
    t0 = time.perf_counter()
    if db_url.startswith("sqlite"):
        path = sa.engine.make_url(db_url).database
        con = sqlite3.connect(path)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            sql = f"INSERT INTO vouchers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            con.executemany(sql, ((*r[:10], r[10].isoformat(" "), r[11].isoformat(" "), *r[12:14],
                                   r[14].isoformat(" "), r[15].isoformat(" ")) for r in _rows(merchant_id, all_codes)))
            con.commit()
            con.execute("ANALYZE")
            con.commit()
        finally:
            con.close()
    else:
        engine = sa.create_engine(db_url)
        try:
            raw = engine.raw_connection()
            try:
                pg = raw.driver_connection
                with pg.cursor() as cur:
                    with cur.copy(f"COPY vouchers ({', '.join(COLUMNS)}) FROM STDIN") as cp:
                        for r in _rows(merchant_id, all_codes):
                            cp.write_row(r)
                pg.commit()
                pg.autocommit = True
                with pg.cursor() as cur:
                    cur.execute("VACUUM ANALYZE vouchers")
            finally:
                raw.close()
        finally:
            engine.dispose()
    return time.perf_counter() - t0


def counter_key_id(db_url: str, store_id: int) -> int | None:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT id FROM api_keys WHERE store_id = :s AND kind = 'counter' ORDER BY id LIMIT 1"),
                {"s": store_id}).scalar()
    finally:
        engine.dispose()
