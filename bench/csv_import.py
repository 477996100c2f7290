"""How long a 5,000-row stock CSV takes to preview and import, against the bare writes it comes down to.

    .venv/bin/python -m bench.csv_import --engine postgresql [--rows 5000] [--rounds 3]

In-process, against a fresh database with the demo (3 stores) and enough SKUs that the export has `--rows`
rows (store × SKU). Each round exports the stock, adds one to every quantity, and measures, on the same
file:

* `bare-update`: the floor: one `UPDATE store_stock SET quantity = :q WHERE store_id = :s AND sku_id = :k`
  per row (SQLAlchemy Core, executemany) and one COMMIT;
* `preview`: keep the upload, read and check every row (app.catalog.csvimport.preview), commit;
* `apply`: check every row again and write them (every row changed), the audit event, commit;
* `apply-again`: the same file once more: every row unchanged, nothing written;
* `console`: the whole path through the console's views (Flask test client): upload, preview page, apply.

Prints seconds per step (median of the rounds) and the bare update's share of each (100 %: as fast as the
bare writes). Wall time on a shared machine moves between runs; the ratios much less.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import signal
import statistics
import sys
import time

import sqlalchemy as sa

from bench import server


def _add_skus(db_url: str, merchant_id: int, count: int) -> None:
    """`count` more products of one SKU each, with codes, stocked at every store (Core, one transaction)."""
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as c:
        stores = c.execute(sa.text("SELECT id FROM stores WHERE merchant_id = :m"), {"m": merchant_id}).scalars().all()
        for i in range(count):
            pid = c.execute(sa.text("INSERT INTO products (merchant_id, name, description, image, featured, active, "
                                    "created_at) VALUES (:m, :n, '', 'img/products/latte.png', false, true, "
                                    "CURRENT_TIMESTAMP) RETURNING id"), {"m": merchant_id, "n": f"压测商品{i}"}).scalar()
            sid = c.execute(sa.text("INSERT INTO skus (merchant_id, product_id, code, name, price_fen, active) "
                                    "VALUES (:m, :p, :c, '标准', 1000, true) RETURNING id"),
                            {"m": merchant_id, "p": pid, "c": f"BENCH-{i}"}).scalar()
            c.execute(sa.text("INSERT INTO store_stock (store_id, sku_id, quantity) VALUES (:s, :k, 10)"),
                      [{"s": s, "k": sid} for s in stores])
    engine.dispose()


def _bumped(content: bytes) -> tuple[bytes, list[dict]]:
    """The file with every quantity plus one, and its rows."""
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    for r in rows:
        r["quantity"] = str(int(r["quantity"]) + 1)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.csv_import", description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)

    with server.fresh_database(args.engine) as db_url:
        env = server.app_env(db_url)
        demo = server.prepare(env)
        merchant_id, stores = demo["merchant"]["id"], len(demo["stores"])
        demo_skus = 0
        os.environ.update(env)
        from bench.bench_app import app
        from app.catalog import csvimport
        from app.catalog.models import StoreStock
        from app.catalog.stock_csv import StockImporter, export_rows
        from app.core.database import commit
        from app.extensions import db
        from app.merchants.models import Role, Staff
        from app.merchants.scope import Scope

        with app.app_context():
            demo_skus = db.session.execute(sa.text("SELECT count(*) FROM skus WHERE merchant_id = :m"),
                                           {"m": merchant_id}).scalar()
        _add_skus(db_url, merchant_id, max(0, -(-args.rows // stores) - demo_skus))
        times: dict[str, list[float]] = {k: [] for k in ("bare-update", "preview", "apply", "apply-again", "console")}
        with app.app_context():
            owner = db.session.execute(sa.select(Staff).where(Staff.merchant_id == merchant_id,
                                                              Staff.role == Role.OWNER)).scalars().first()
            scope = Scope.of(owner)
            client = app.test_client()
            with client.session_transaction() as s:
                s["staff_id"], s["staff_pw"], s["csrf"] = owner.id, owner.password_hash[-12:], "bench"
            for _ in range(args.rounds):
                out = io.StringIO()
                csv.writer(out).writerows(csvimport.write_rows(StockImporter, list(export_rows(scope))[:args.rows]))
                content, rows = _bumped(out.getvalue().encode("utf-8"))

                t0 = time.perf_counter()
                table = StoreStock.__table__
                db.session.connection().execute(
                    sa.update(table).where(table.c.store_id == sa.bindparam("s"), table.c.sku_id == sa.bindparam("k"))
                    .values(quantity=sa.bindparam("q")),
                    [{"s": int(r["store_id"]), "k": int(r["sku_id"]), "q": int(r["quantity"]) + 1000} for r in rows])
                commit()
                times["bare-update"].append(time.perf_counter() - t0)

                t0 = time.perf_counter()
                upload = csvimport.keep(scope, "stock", "bench.csv", content)
                outcome = csvimport.preview(StockImporter(scope), upload)
                commit()
                times["preview"].append(time.perf_counter() - t0)
                assert outcome.counts == {"updated": len(rows)}, outcome.counts

                t0 = time.perf_counter()
                outcome = csvimport.apply(StockImporter(scope), upload)
                commit()
                times["apply"].append(time.perf_counter() - t0)
                assert outcome.counts == {"updated": len(rows)}, outcome.counts

                t0 = time.perf_counter()
                again = csvimport.keep(scope, "stock", "bench.csv", content)
                outcome = csvimport.apply(StockImporter(scope), again)
                commit()
                times["apply-again"].append(time.perf_counter() - t0)
                assert outcome.counts == {"unchanged": len(rows)}, outcome.counts

                content, rows = _bumped(content)
                t0 = time.perf_counter()
                r = client.post("/console/stock/import", content_type="multipart/form-data",
                                data={"csrf_token": "bench", "file": (io.BytesIO(content), "bench.csv")})
                assert r.status_code == 302, r.status_code
                page = client.get(r.location)
                assert page.status_code == 200 and f"更新 {len(rows)}" in page.get_data(as_text=True)
                done = client.post(r.location + "/apply", data={"csrf_token": "bench"})
                assert done.status_code == 200, done.status_code
                times["console"].append(time.perf_counter() - t0)
                db.session.remove()

    floor = statistics.median(times["bare-update"])
    print(f"stock CSV import, {args.rows} rows ({args.engine}, median of {args.rounds} rounds)")
    print(f"{'step':<14}{'seconds':>10}{'bare-update / step':>22}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<14}{median:>10.3f}{floor / median:>21.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
