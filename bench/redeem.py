"""Redeem and verify throughput against their database ceilings.

    .venv/bin/python -m bench.redeem --engine postgresql --vouchers 100000
    .venv/bin/python -m bench.redeem --engine sqlite --vouchers 100000
    .venv/bin/python -m bench.redeem --engine postgresql --vouchers 1000000

Makes a fresh database (dropped afterwards), `flask db upgrade`, `flask demo --json`, bulk-loads N vouchers,
starts gunicorn (4 sync workers) on `bench.bench_app:app` and measures, with C concurrent connections and a
fixed number of requests each: json (HTTP ceiling), bare-select, verify, bare-update, redeem. Every verify,
bare-update and redeem request carries a different voucher code; every non-200 is counted and shown.
Results go to stdout and to bench/out/<timestamp>-<engine>-<N>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bench import cpu, data, load, server

OUT = Path(__file__).resolve().parent / "out"
ORDER = ["json", "bare-select", "verify", "bare-update", "redeem"]
RATIOS = [("redeem", "bare-update"), ("verify", "bare-select"), ("bare-update", "json"), ("redeem", "json"),
          ("bare-select", "json"), ("verify", "json")]


def scenarios(demo: dict, pools: dict[str, list[str]]) -> dict[str, load.Scenario]:
    store_id = demo["stores"][0]["id"]
    counter = {"Authorization": f"Bearer {demo['stores'][0]['counter_key']}"}
    return {
        "json": load.Scenario("json", "GET", "/bench/json"),
        "bare-select": load.Scenario("bare-select", "POST", "/bench/bare-select", '{"code": "@CODE@"}',
                                     codes=pools.get("bare-select")),
        "verify": load.Scenario("verify", "POST", "/api/v1/counter/verify", '{"code": "@CODE@"}', counter,
                                codes=pools.get("verify")),
        "bare-update": load.Scenario(
            "bare-update", "POST", "/bench/bare-update",
            '{"code": "@CODE@", "store_id": %d, "idempotency_key": "bu-@CODE@"}' % store_id,
            codes=pools.get("bare-update")),
        "redeem": load.Scenario("redeem", "POST", "/api/v1/counter/redeem",
                                '{"code": "@CODE@", "idempotency_key": "rd-@CODE@"}', counter,
                                codes=pools.get("redeem")),
    }


def allocate(all_codes: list[str], requests: int, warmup: int, rounds: int, connections: int) -> list[dict]:
    """Per-round code pools (plus a warm-up round first). Read-only scenarios reuse their pool each round;
    the writing ones get fresh codes every round. Raises when N is too small."""
    rng = random.Random(42)
    shuffled = all_codes[:]
    rng.shuffle(shuffled)
    need_w, need = load.codes_needed(warmup, connections), load.codes_needed(requests, connections)
    total = 2 * need_w + 2 * need + rounds * 2 * need
    if total > len(shuffled):
        raise SystemExit(f"--vouchers {len(shuffled)} is too few: this run needs {total} codes")
    pos = 0

    def take(k: int) -> list[str]:
        nonlocal pos
        pos += k
        return shuffled[pos - k:pos]

    warm_read = take(need_w)
    plan = [{"bare-select": warm_read, "verify": warm_read, "bare-update": take(need_w), "redeem": take(need_w)}]
    select_pool, verify_pool = take(need), take(need)
    for _ in range(rounds):
        plan.append({"bare-select": select_pool, "verify": verify_pool, "bare-update": take(need), "redeem": take(need)})
    return plan


def fmt_row(name: str, r: dict, json_rps: float) -> str:
    c = r.get("cpu_ms", {})
    return (f"{name:<12} {r['requests']:>8} {r['seconds']:>8.2f} {r['rps']:>9.1f} {r['p50_ms']:>8.1f} "
            f"{r['p90_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['non200']:>7} {r['rps'] / json_rps:>8.0%} "
            f"{c.get('app', float('nan')):>7.2f} {c.get('db', float('nan')):>6.2f} {c.get('client', float('nan')):>6.2f}")


def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'scenario':<12} {'requests':>8} {'seconds':>8} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'non-200':>7} {'vs json':>8} {'app CPU':>7} {'db CPU':>6} {'client':>6}")
    json_rps = results["json"]["rps"]
    for name in ORDER:
        if name in results:
            print(fmt_row(name, results[name], json_rps))


def summarise(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    out = {}
    for name in ORDER:
        rs = [r[name] for r in rounds]
        out[name] = {
            "requests": sum(r["requests"] for r in rs), "seconds": sum(r["seconds"] for r in rs),
            "rps": statistics.median(r["rps"] for r in rs),
            "p50_ms": statistics.median(r["p50_ms"] for r in rs), "p90_ms": statistics.median(r["p90_ms"] for r in rs),
            "p99_ms": statistics.median(r["p99_ms"] for r in rs), "non200": sum(r["non200"] for r in rs),
            "cpu_ms": {k: statistics.median(r["cpu_ms"][k] for r in rs) for k in ("app", "db", "client")},
        }
    return out


def ratios(summary: dict[str, dict]) -> dict[str, float]:
    return {f"{a} / {b}": summary[a]["rps"] / summary[b]["rps"] for a, b in RATIOS}


def cpu_ratios(summary: dict[str, dict]) -> dict[str, float]:
    """The same ratios from server CPU per request (app + db): what the rps ratio would be on a machine
    where the server's CPU is the only limit. Steadier than req/s when the machine is shared."""
    server = {k: v["cpu_ms"]["app"] + v["cpu_ms"]["db"] for k, v in summary.items()}
    return {f"{a} / {b}": server[b] / server[a] for a, b in RATIOS if server[a] > 0}


def db_check(db_url: str) -> dict:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            q = lambda sql: conn.execute(sa.text(sql)).scalar()  # noqa: E731
            return {
                "redemptions_api": q("SELECT count(*) FROM redemptions WHERE idempotency_key LIKE 'rd-%'"),
                "redemptions_bare": q("SELECT count(*) FROM redemptions WHERE idempotency_key LIKE 'bu-%'"),
                "redeem_events": q("SELECT count(*) FROM voucher_events WHERE kind = 'redeemed'"),
                "vouchers_redeemed": q("SELECT count(*) FROM vouchers WHERE status = 'redeemed'"),
            }
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.redeem", description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--redis", default=None, help="REDIS_URL for the app (default: Redis db 14 with PostgreSQL, "
                    "as deployed; none with SQLite); 'none' for none")
    ap.add_argument("--vouchers", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=5000, help="measured requests per scenario and round")
    ap.add_argument("--warmup", type=int, default=300, help="unmeasured requests per scenario first")
    ap.add_argument("--rounds", type=int, default=2, help="all scenarios, this many times; the median is reported")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--admin-url", default=None, help="PostgreSQL server URL (default BENCH_DATABASE_URL or "
                                                      f"{server.DEFAULT_PG}); a new database is made on it")
    args = ap.parse_args(argv)
    # Leave no database or server behind when stopped: SIGTERM (and SIGINT, even when inherited ignored)
    # unwind through the context managers that drop the database and stop gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    client = ("wrk" if load.has_wrk() else "python") if args.client == "auto" else args.client
    if client == "wrk" and not load.has_wrk():
        raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --client python")

    git = lambda *a: subprocess.run(["git", *a], cwd=OUT.parent.parent, capture_output=True, text=True).stdout.strip()  # noqa: E731
    meta = {"git_head": git("rev-parse", "--short", "HEAD"), "git_dirty": bool(git("status", "--porcelain", "app")),
            "loadavg_start": os.getloadavg(),
            "engine": args.engine, "vouchers": args.vouchers, "requests": args.requests, "warmup": args.warmup,
            "rounds": args.rounds, "connections": args.connections, "workers": args.workers, "client": client,
            "cpus": os.cpu_count(), "python": platform.python_version(), "started": datetime.now().isoformat()}
    print(f"bench.redeem: {args.engine}, {args.vouchers:,} vouchers, {args.rounds} x {args.requests:,} requests "
          f"per scenario, {args.connections} connections, {args.workers} sync workers, client {client}, "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}", flush=True)
    if os.getloadavg()[0] > 1.0:
        print("  WARNING: the machine is busy (load average above 1): numbers will be low and noisy", flush=True)

    t = time.perf_counter()
    all_codes = data.make_codes(args.vouchers)
    meta["codes_seconds"] = round(time.perf_counter() - t, 2)
    plan = allocate(all_codes, args.requests, args.warmup, args.rounds, args.connections)
    print(f"  generated {len(all_codes):,} codes in {meta['codes_seconds']} s", flush=True)

    with server.fresh_database(args.engine, args.admin_url) as db_url:
        meta["redis"] = server.redis_for(args.engine, args.redis)
        env = server.app_env(db_url, redis_url=meta["redis"])
        t = time.perf_counter()
        demo = server.prepare(env)
        meta["prepare_seconds"] = round(time.perf_counter() - t, 2)
        meta["insert_seconds"] = round(data.insert_vouchers(db_url, demo["merchant"]["id"], all_codes), 2)
        print(f"  upgrade + demo {meta['prepare_seconds']} s; inserted {len(all_codes):,} vouchers in "
              f"{meta['insert_seconds']} s ({len(all_codes) / meta['insert_seconds']:,.0f} rows/s)", flush=True)
        if args.engine == "postgresql":
            eng = sa.create_engine(db_url)
            with eng.connect() as conn:
                meta["server_version"] = conn.execute(sa.text("SHOW server_version")).scalar()
            eng.dispose()
        else:
            import sqlite3
            meta["server_version"] = "sqlite " + sqlite3.sqlite_version

        rounds: list[dict[str, dict]] = []
        ok_count = {name: 0 for name in ORDER}  # 200s over warm-up and rounds, to check against the database
        with server.gunicorn(env, workers=args.workers) as (base, proc):
            meter = cpu.Meter(proc.pid, db_url)
            for i, pools in enumerate(plan):
                warm = i == 0
                n = args.warmup if warm else args.requests
                label = "warm-up" if warm else f"round {i}/{args.rounds}"
                results = {}
                for name, sc in scenarios(demo, pools).items():
                    before = meter.snapshot()
                    results[name] = r = load.run(sc, base, n, args.connections, client)
                    used = meter.delta(before, meter.snapshot())
                    # CPU per request (ms): the app (gunicorn), the database backends, the load client.
                    r["cpu_ms"] = {k: used[k] / max(r["requests"], 1) * 1000 for k in ("app", "db", "client")}
                    ok_count[name] += r["statuses"].get("200", 0)
                    print(f"  {label:<11} {name:<12} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                          f"p99 {r['p99_ms']:6.1f} ms  non-200 {r['non200']}", flush=True)
                    for s in r["samples"]:
                        print(f"      non-200: {s[:300]}")
                if not warm:
                    rounds.append(results)
                    print_table(f"{label}:", results)
            meter.close()
        meta["db_check"] = check = db_check(db_url)
        # wrk may have had a few requests in flight when a thread reached its quota: the database can hold
        # slightly more rows than 200s counted, never fewer.
        meta["db_check_ok"] = (check["redemptions_api"] >= ok_count["redeem"]
                               and check["redeem_events"] >= ok_count["redeem"]
                               and check["redemptions_bare"] >= ok_count["bare-update"]
                               and check["vouchers_redeemed"] == check["redemptions_api"] + check["redemptions_bare"])
        meta["ok_count"] = ok_count

    meta["loadavg_end"] = os.getloadavg()
    summary = summarise(rounds)
    rat = ratios(summary)
    crat = cpu_ratios(summary)
    print_table(f"Median of {args.rounds} round(s) — {args.engine}, {args.vouchers:,} vouchers, {client}, "
                f"{args.connections} connections, {args.workers} sync workers:", summary)
    print("\nCPU columns: ms of CPU per request used by gunicorn (app), the PostgreSQL backends (db; 0 for "
          "SQLite, which runs inside the app) and the load client.")
    print("\nratios:                     req/s   server CPU per request (inverse)")
    for k, v in rat.items():
        print(f"  {k:<26} {v:6.0%}   {crat.get(k, float('nan')):6.0%}")
    total_bad = sum(r["non200"] for r in summary.values())
    print(f"\nnon-200 responses in measured rounds: {total_bad}")
    print(f"database check: {'OK' if meta['db_check_ok'] else 'MISMATCH'} {meta['db_check']} "
          f"(200s counted: redeem {ok_count['redeem']}, bare-update {ok_count['bare-update']})")
    print(f"load average at start {meta['loadavg_start'][0]:.2f}, at end {meta['loadavg_end'][0]:.2f}; "
          f"app at {meta['git_head']}{' + uncommitted changes' if meta['git_dirty'] else ''}")
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"{stamp}-{args.engine}-{args.vouchers}.json"
    path.write_text(json.dumps({"meta": meta, "summary": summary, "ratios": rat, "cpu_ratios": crat, "rounds": rounds}, indent=2,
                               ensure_ascii=False))
    print(f"written {path.relative_to(OUT.parent.parent)}")
    return 1 if total_bad or not meta["db_check_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
