"""Where a redeem's time goes: SQL statements per request, database vs Python time, and a cProfile.

    .venv/bin/python -m bench.profile_redeem --engine postgresql [--requests 500] [--cprofile 25]

In-process (Flask test client, no HTTP server, one request at a time) against a fresh database with the
demo and a few thousand vouchers. Prints:

* per scenario, the driver calls one request makes (pool pre-ping, statements, COMMIT/ROLLBACK; not
  psycopg's own BEGIN, which it sends before the first statement of a transaction), and the mean time
  per request split into time inside the driver and the rest, plus this process's CPU per request;
* CPU per call of the pieces of a redeem (the app's own statements and functions, called directly);
* "what if": redeem with the cuts the app has not made patched in memory (app/ is never changed): the
  counter-key row cached per worker, no pool pre-ping;
* a cProfile (CPU time) of redeem requests.

CPU time, not wall time, is the measure that survives a busy machine; even so, absolute values move
between runs on a shared box, proportions much less.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import signal
import sys
import time
from collections import Counter
from types import SimpleNamespace

import sqlalchemy as sa

from bench import data, server


class Recorder:
    """Counts and times everything the app asks of the driver."""

    def __init__(self, engine: sa.Engine):
        self.statements: list[str] = []
        self.db_seconds = 0.0
        self._t0 = 0.0
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)
        dialect = engine.dialect
        for name, label in (("do_ping", "-- pool pre-ping (SELECT 1)"), ("do_commit", "COMMIT"),
                            ("do_rollback", "ROLLBACK")):
            setattr(dialect, name, self._wrap(getattr(dialect, name), label))

    def _wrap(self, fn, label):
        def wrapped(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.db_seconds += time.perf_counter() - t0
                self.statements.append(label)
        return wrapped

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._t0 = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.db_seconds += time.perf_counter() - self._t0
        self.statements.append(" ".join(statement.split()))

    def reset(self):
        self.statements, self.db_seconds = [], 0.0


def short(sql: str) -> str:
    sql = re.sub(r"\s+", " ", sql)
    m = re.match(r"(SELECT .{0,60}?FROM \w+|INSERT INTO \w+|UPDATE \w+|DELETE FROM \w+)", sql)
    head = m.group(1) if m else sql[:70]
    where = re.search(r" WHERE (.{0,90})", sql)
    tail = []
    if where and not sql.startswith("INSERT"):
        tail.append("WHERE " + where.group(1))
    if "ON CONFLICT" in sql:
        tail.append("ON CONFLICT DO NOTHING")
    if "RETURNING" in sql:
        tail.append("RETURNING")
    return head + (" ... " + " ".join(tail) if tail else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.profile_redeem")
    ap.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--cprofile", type=int, default=25, help="top N functions of a redeem cProfile (0: none)")
    ap.add_argument("--no-what-if", action="store_true", help="skip the what-if runs (the app patched in memory)")
    args = ap.parse_args(argv)
    # Leave no database or server behind when stopped: SIGTERM (and SIGINT, even when inherited ignored)
    # unwind through the context managers that drop the database and stop gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    n = args.requests
    all_codes = data.make_codes(10 * n + 200)  # [4n, 4n+100): warm-up; from 4n+100: what-if runs

    with server.fresh_database(args.engine) as db_url:
        env = server.app_env(db_url)
        demo = server.prepare(env)
        data.insert_vouchers(db_url, demo["merchant"]["id"], all_codes)
        os.environ.update(env)
        from bench.bench_app import app
        from app.extensions import db

        with app.app_context():
            engine = db.engine
        rec = Recorder(engine)
        client = app.test_client()
        store_id = demo["stores"][0]["id"]
        auth = {"Authorization": f"Bearer {demo['stores'][0]['counter_key']}"}
        pools = {"verify": all_codes[:n], "bare-select": all_codes[:n], "redeem": all_codes[n:2 * n],
                 "bare-update": all_codes[2 * n:3 * n], "redeem-profile": all_codes[3 * n:4 * n]}

        def call(name: str, code: str):
            if name == "json":
                return client.get("/bench/json")
            if name == "bare-select":
                return client.post("/bench/bare-select", json={"code": code})
            if name == "verify":
                return client.post("/api/v1/counter/verify", json={"code": code}, headers=auth)
            if name == "bare-update":
                return client.post("/bench/bare-update",
                                   json={"code": code, "store_id": store_id, "idempotency_key": f"bu-{code}"})
            return client.post("/api/v1/counter/redeem", json={"code": code, "idempotency_key": f"rd-{code}"},
                               headers=auth)

        print(f"profile_redeem: {args.engine}, {n} requests per scenario, in-process, one at a time\n")
        summary = {}
        for name in ("json", "bare-select", "verify", "bare-update", "redeem"):
            pool = pools.get(name) or [""] * n
            # Warm up (first connection, statement caches, psycopg's prepared statements): 10 spare codes each.
            spare = {"json": 0, "bare-select": 0, "verify": 0, "bare-update": 1, "redeem": 2}[name]
            for code in all_codes[4 * n + 10 * spare:4 * n + 10 * spare + 10]:
                call(name, code)
            counts, shapes, total, db_total, cpu_total, bad = Counter(), Counter(), 0.0, 0.0, 0.0, 0
            for i, code in enumerate(pool):
                rec.reset()
                t0, c0 = time.perf_counter(), time.process_time()
                r = call(name, code)
                total += time.perf_counter() - t0
                cpu_total += time.process_time() - c0
                db_total += rec.db_seconds
                if r.status_code != 200:
                    bad += 1
                counts[len(rec.statements)] += 1
                shapes[tuple(short(s) for s in rec.statements)] += 1
            shape, _ = shapes.most_common(1)[0]
            summary[name] = (total / n * 1000, db_total / n * 1000, cpu_total / n * 1000, len(shape))
            print(f"{name}: {len(shape)} driver calls per request (distribution {dict(counts)}), non-200: {bad}")
            for s in shape:
                print(f"    {s}")
            print(f"    mean {total / n * 1000:.2f} ms/request: driver {db_total / n * 1000:.2f} ms, "
                  f"rest {(total - db_total) / n * 1000:.2f} ms; CPU of this process {cpu_total / n * 1000:.2f} ms\n")

        print(f"{'scenario':<12} {'ms/req':>7} {'driver ms':>9} {'rest ms':>9} {'CPU ms':>7} {'calls':>5}")
        for name, (t, d, c, k) in summary.items():
            print(f"{name:<12} {t:>7.2f} {d:>9.2f} {t - d:>9.2f} {c:>7.2f} {k:>5}")

        if args.cprofile:
            # CPU time, not wall time: waiting for PostgreSQL is left out, as is other load on the machine.
            prof = cProfile.Profile(time.process_time)
            prof.enable()
            for code in pools["redeem-profile"]:
                call("redeem", code)
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_callees(r"redeem.py:\d+\(redeem\)")
            print(f"\ncProfile (CPU time): what service.redeem() calls, {n} redeems:")
            print("\n".join(line for line in buf.getvalue().splitlines() if line.strip())[:6000])
            for key, restrict in (("cumulative", r"/app/"), ("cumulative", ""), ("tottime", "")):
                buf = io.StringIO()
                stats = pstats.Stats(prof, stream=buf).sort_stats(key)
                stats.print_stats(*([restrict] if restrict else []), args.cprofile)
                what = "app functions only, " if restrict else ""
                print(f"\ncProfile (CPU time) of {n} redeems ({what}by {key}):")
                print("\n".join(line for line in buf.getvalue().splitlines() if line.strip())[:12000])
        components(app, demo, all_codes[:n])
        if not args.no_what_if:
            what_if(app, engine, rec, call, all_codes[4 * n + 100:], n)
        engine.dispose()
    return 0


def components(app, demo: dict, read_codes: list[str], rounds: int = 12, block: int = 100) -> None:
    """CPU per call of the pieces of a redeem that cost a database round trip, each inside a request
    context and ended by a rollback, minus the same loop with the rollback only. Measured in alternating
    blocks so that drift (other load on the machine) cancels out. Read-only: nothing is redeemed."""
    from app.extensions import db
    from app.merchants.service import authenticate_key
    from app.vouchers import redeem as service
    from app.vouchers.lookup import lookup
    from app.web.api.common import counter_actor, guess_scope
    from flask import g
    from app.core.clock import now_utc
    from app.vouchers.models import EventKind, Voucher

    key = demo["stores"][0]["counter_key"]
    codes_cycle = read_codes
    block = min(block, len(read_codes) - 1)  # writing pieces need a distinct voucher per call in a block

    with app.test_request_context("/api/v1/counter/redeem", method="POST",
                                  headers={"Authorization": f"Bearer {key}"}):
        g.principal = authenticate_key(key)
        actor = counter_actor()
        scope = guess_scope(actor)
        db.session.rollback()
        pieces = {
            "(loop only)": lambda i: None,
            "authenticate_key: SELECT api_keys": lambda i: authenticate_key(key),
            "lookup(): allowance + SELECT vouchers (ORM)": lambda i: lookup(
                codes_cycle[i % len(codes_cycle)], actor, scope),
            "pool pre-ping (SELECT 1 on checkout)": lambda i: db.session.connection(),
            "lookup() + service.redeem() + flush": lambda i: (service.redeem(
                lookup(codes_cycle[i % len(codes_cycle)], actor, scope), actor, idempotency_key=f"c-{i}"),
                db.session.flush()),
            "bare-update's Core UPDATE + INSERT": lambda i: bare_update_statements(
                db.session, codes_cycle[i % len(codes_cycle)], actor.store_id, f"b-{i}"),
        }
        del pieces["pool pre-ping (SELECT 1 on checkout)"]
        ids = list(db.session.execute(sa.select(Voucher.id).where(Voucher.code.in_(codes_cycle))).scalars())
        db.session.rollback()
        # The app's own prebuilt statements (app/vouchers/service.py), one at a time.
        pieces.update({
            "conditional UPDATE (service._TAKE_USES)": lambda i: db.session.execute(
                service._TAKE_USES, {"vid": ids[i % len(ids)], "n": 1, "now": now_utc(), "next_use": None}).one_or_none(),
            "claim INSERT ... ON CONFLICT (service._SQL.claim())": lambda i: db.session.execute(
                service._SQL.claim(db.session.get_bind().dialect.name), claim_values(ids[i % len(ids)], actor, i)).scalar(),
            "voucher_events row (service._event, Core INSERT)": lambda i: service._event(
                SimpleNamespace(id=ids[i % len(ids)], merchant_id=actor.merchant_id), EventKind.REDEEMED,
                "issued", "redeemed", actor=actor, uses_delta=-1),
        })
        results = {name: 0.0 for name in pieces}
        i = 0
        for _ in range(rounds):
            for name, fn in pieces.items():
                fn(i)  # open the transaction (checkout + pre-ping + BEGIN) outside the timed part
                c0 = time.process_time()
                for _ in range(block):
                    i += 1
                    fn(i)
                results[name] += time.process_time() - c0
                db.session.rollback()
        base = results["(loop only)"] / (rounds * block)
        print(f"\nCPU per call in this process, inside one open transaction ({rounds * block} calls each):")
        per = {name: (results[name] / (rounds * block) - base) * 1000 for name in pieces}
        for name in pieces:
            if not name.startswith("("):
                print(f"  {name:<62} {per[name]:6.2f} ms")
        print(f"  {'  so service.redeem() + flush alone':<62} "
              f"{per['lookup() + service.redeem() + flush'] - per['lookup(): allowance + SELECT vouchers (ORM)']:6.2f} ms")
        # The per-request transaction overhead: checkout with pre-ping, BEGIN, COMMIT.
        tx = {"checkout + pre-ping (SELECT 1)": 0.0, "BEGIN (psycopg sends it on its own)": 0.0,
              "COMMIT": 0.0, "SELECT 1 (reference round trip)": 0.0}
        for _ in range(rounds):
            for _ in range(block):
                c0 = time.process_time()
                conn = db.session.connection()  # checkout: pre-ping
                c1 = time.process_time()
                conn.exec_driver_sql("SELECT 1")  # BEGIN + SELECT 1
                c2 = time.process_time()
                conn.exec_driver_sql("SELECT 1")
                c3 = time.process_time()
                db.session.commit()
                c4 = time.process_time()
                tx["checkout + pre-ping (SELECT 1)"] += c1 - c0
                tx["BEGIN (psycopg sends it on its own)"] += (c2 - c1) - (c3 - c2)
                tx["SELECT 1 (reference round trip)"] += c3 - c2
                tx["COMMIT"] += c4 - c3
        for name, v in tx.items():
            print(f"  {name:<62} {v / (rounds * block) * 1000:6.2f} ms")


def claim_values(voucher_id: int, actor, i: int) -> dict:
    """Parameters for the app's claim INSERT, as service.redeem() passes them."""
    from app.core.clock import now_utc

    return dict(voucher_id=voucher_id, merchant_id=actor.merchant_id, store_id=actor.store_id, staff_id=None,
                api_key_id=actor.api_key_id, device_id=actor.device_id[:64], uses=1, idempotency_key=f"p-{i}",
                redeemed_at=now_utc(), prev_next_use_at=None, uses_left_after=0, status_after="redeemed")


def bare_update_statements(session, code: str, store_id: int, key: str) -> None:
    """The two statements of /bench/bare-update, on the session's connection."""
    from bench.bench_app import R, V
    from app.core.clock import now_utc

    now = now_utc()
    won = session.execute(
        sa.update(V).where(V.c.code == code, V.c.status == "issued", V.c.uses_left >= 1)
        .values(uses_left=V.c.uses_left - 1, status=sa.case((V.c.uses_left - 1 == 0, "redeemed"), else_="partly_used"),
                updated_at=now)
        .returning(V.c.id, V.c.merchant_id, V.c.uses_left, V.c.status)).one()
    session.execute(sa.insert(R).values(
        voucher_id=won.id, merchant_id=won.merchant_id, store_id=store_id, uses=1, idempotency_key=key,
        redeemed_at=now, device_id="bench", uses_left_after=won.uses_left,
        status_after=getattr(won.status, "value", won.status)))


def what_if(app, engine, rec: Recorder, call, spare: list[str], n: int) -> None:
    """Redeem again with the app patched IN MEMORY (app/ is not changed), one change more each step, to
    measure what the cuts the app has not made would save. Each step uses fresh vouchers."""
    import app.web.auth as auth

    original = (auth.authenticate_key, engine.pool._pre_ping)
    cache: dict = {}

    def cached_key(key):  # a per-worker cache of the key row (a real one would expire after seconds)
        if key not in cache:
            cache[key] = original[0](key)
        return cache[key]

    def restore():
        auth.authenticate_key, engine.pool._pre_ping = original

    def key_cached():
        auth.authenticate_key = cached_key

    def no_ping():
        key_cached()
        engine.pool._pre_ping = False

    steps = [
        ("redeem as it is", restore),
        ("- API-key SELECT (cached per worker)", key_cached),
        ("  and pool pre-ping (saves the same in bare-update)", no_ping),
    ]
    block = 50
    rounds = max(1, n // block)
    print(f"\nWhat if (redeem, in-process, the app patched in memory; {rounds} alternating blocks of {block} "
          f"requests per step, so drift on a busy machine cancels out):")
    print(f"  {'step':<70} {'calls':>5} {'ms/req':>7} {'CPU ms':>7}")
    pos = 0
    wall = {label: 0.0 for label, _ in steps}
    cpu = {label: 0.0 for label, _ in steps}
    calls = {label: Counter() for label, _ in steps}
    bad = {label: 0 for label, _ in steps}
    try:
        for label, apply in steps:  # warm each variant once
            restore()
            apply()
            for code in spare[pos:pos + 5]:
                call("redeem", code)
            pos += 5
        for _ in range(rounds):
            for label, apply in steps:
                restore()
                apply()
                for code in spare[pos:pos + block]:
                    rec.reset()
                    t0, c0 = time.perf_counter(), time.process_time()
                    r = call("redeem", code)
                    wall[label] += time.perf_counter() - t0
                    cpu[label] += time.process_time() - c0
                    calls[label][len(rec.statements)] += 1
                    bad[label] += r.status_code != 200
                pos += block
        k = rounds * block
        for label, _ in steps:
            print(f"  {label:<70} {calls[label].most_common(1)[0][0]:>5} {wall[label] / k * 1000:>7.2f} "
                  f"{cpu[label] / k * 1000:>7.2f}" + (f"  non-200: {bad[label]}" if bad[label] else ""))
    finally:
        restore()


if __name__ == "__main__":
    sys.exit(main())
