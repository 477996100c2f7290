"""Shop pages and checkout: the product page and the home page against a bare page, a stock race, and
the rate of order placement.

    .venv/bin/python -m bench.shop --engine postgresql
    .venv/bin/python -m bench.shop --engine sqlite

Makes a fresh database (dropped afterwards), `flask db upgrade`, `flask demo --json`, starts gunicorn
(4 sync workers) on `bench.bench_app:app`, then:

1. pages, closed loop with wrk, every request with `Accept-Encoding: gzip` (as phones send; without it
   the app answers uncompressed): json (HTTP ceiling), bare-page (one query + a small template file: the
   ceiling for a server-rendered page), product (`/m/<slug>/p/<id>?store=<id>`, every demo product at
   every store in turn; served from the page memo once warm), product-member (the same, signed in),
   product-fresh (the same URLs plus `&render=1`, a parameter the page does not read, so the memo is
   skipped and every request renders: the cold page), home (`/m/<slug>/`); a warm-up round, then the
   median of --rounds rounds;
2. stock race: 20 shoppers, each signed in with a cart, check out the last 5 items at once through the
   real pages: exactly 5 orders, 15 refusals (409), stock 0;
3. order placement: --orders shoppers prepared beforehand (sign-in, cart, checkout page for its nonce),
   then every checkout POST fired through --connections threads; orders/s and latency of the POSTs only.

Every non-200 page response, and any race or placement answer other than the expected ones, is counted,
shown and makes the run exit 1. Results go to stdout and bench/out/<timestamp>-shop-<engine>.json.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import requests
import sqlalchemy as sa

from bench import cpu, load, server

OUT = Path(__file__).resolve().parent / "out"
ORDER = ["json", "bare-page", "product", "product-member", "product-fresh", "home"]
RATIOS = [("product", "bare-page"), ("product-member", "bare-page"), ("product-fresh", "bare-page"),
          ("home", "bare-page"), ("bare-page", "json"),
          ("product", "json"), ("home", "json")]
GZIP = {"Accept-Encoding": "gzip"}
NONCE = re.compile(r'name="nonce" value="([^"]+)"')
FIRST_PICKUP_TIME = re.compile(r'data-testid="pickup-at">.*?<option value="([^"]+)"', re.S)


# ------------------------------------------------------------------------------------------------ data

def catalog(db_url: str) -> dict:
    """Product ids on sale (with an active SKU), active store ids, and two SKUs for the checkouts."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            q = lambda sql, **kw: list(conn.execute(sa.text(sql), kw).scalars())  # noqa: E731
            products = q("SELECT DISTINCT p.id FROM products p JOIN skus s ON s.product_id = p.id "
                         "WHERE p.active AND s.active ORDER BY p.id")
            stores = q("SELECT id FROM stores WHERE active ORDER BY id")
            skus = q("SELECT s.id FROM skus s JOIN products p ON p.id = s.product_id WHERE p.active AND s.active "
                     "ORDER BY s.id")
    finally:
        engine.dispose()
    return {"products": products, "stores": stores, "race_sku": skus[0], "order_sku": skus[1]}


def browser() -> requests.Session:
    """A cookie jar with the shop's CSRF pair, as a phone has once a page with a form set it (app.web.csrf)."""
    s = requests.Session()
    token = "bench" + "0" * 27
    s.cookies.set("csrf", token)
    s.headers["X-CSRFToken"] = token
    return s


def member_cookie(base: str, slug: str) -> str:
    """A signed-in member's session cookie (demo sign-in), as WeChat shoppers all are."""
    s = browser()
    r = s.post(f"{base}/m/{slug}/signin/demo", data={"nickname": "压测会员", "next": f"/m/{slug}/"}, timeout=30)
    _expect(r, (200,), "demo sign-in")
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)


def scenarios(slug: str, cat: dict, cookie: str) -> dict[str, load.Scenario]:
    pairs = [f"{p}?store={s}" for p in cat["products"] for s in cat["stores"]]
    return {
        "json": load.Scenario("json", "GET", "/bench/json", headers=GZIP),
        "bare-page": load.Scenario("bare-page", "GET", "/bench/bare-page/@CODE@", headers=GZIP,
                                   codes=[str(p) for p in cat["products"]], cycle=True),
        "product": load.Scenario("product", "GET", f"/m/{slug}/p/@CODE@", headers=GZIP, codes=pairs, cycle=True),
        "product-member": load.Scenario("product-member", "GET", f"/m/{slug}/p/@CODE@",
                                        headers={**GZIP, "Cookie": cookie}, codes=pairs, cycle=True),
        # A query parameter the page does not read: never kept by the page memo, rendered on every request.
        "product-fresh": load.Scenario("product-fresh", "GET", f"/m/{slug}/p/@CODE@", headers=GZIP,
                                       codes=[f"{pair}&render=1" for pair in pairs], cycle=True),
        "home": load.Scenario("home", "GET", f"/m/{slug}/", headers=GZIP),
    }


def probe(base: str, sc: load.Scenario) -> dict:
    """One request as the load sends it: status, Content-Encoding, bytes on the wire and unpacked."""
    path = sc.path.replace("@CODE@", sc.codes[0]) if sc.codes else sc.path
    req = urllib.request.Request(base + path, headers=sc.headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        raw, enc, status = r.read(), r.headers.get("Content-Encoding") or "identity", r.status
    body = gzip.decompress(raw) if enc == "gzip" else raw
    return {"path": path, "status": status, "encoding": enc, "wire_bytes": len(raw), "body_bytes": len(body)}


# ------------------------------------------------------------------------------------------------ pages

def fmt_row(name: str, r: dict, ref: dict) -> str:
    c = r.get("cpu_ms", {})
    return (f"{name:<14} {r['requests']:>8} {r['rps']:>8.1f} {r['p50_ms']:>7.1f} {r['p90_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {r['non200']:>7} {r['rps'] / ref['bare-page']['rps']:>9.0%} "
            f"{r['rps'] / ref['json']['rps']:>7.0%} {r.get('bytes_per_response', float('nan')):>7.0f} "
            f"{c.get('app', float('nan')):>7.2f} {c.get('db', float('nan')):>6.2f} {c.get('client', float('nan')):>6.2f}")


def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'scenario':<14} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'non-200':>7} "
          f"{'vs bare':>9} {'vs json':>7} {'B/resp':>7} {'app CPU':>7} {'db CPU':>6} {'client':>6}")
    for name in ORDER:
        if name in results:
            print(fmt_row(name, results[name], results))


def summarise(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    out = {}
    for name in ORDER:
        rs = [r[name] for r in rounds]
        med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
        out[name] = {
            "requests": sum(r["requests"] for r in rs), "seconds": sum(r["seconds"] for r in rs),
            "rps": med("rps"), "p50_ms": med("p50_ms"), "p90_ms": med("p90_ms"), "p99_ms": med("p99_ms"),
            "non200": sum(r["non200"] for r in rs), "bytes_per_response": med("bytes_per_response"),
            "cpu_ms": {k: statistics.median(r["cpu_ms"][k] for r in rs) for k in ("app", "db", "client")},
        }
    return out


def run_pages(base: str, scs: dict[str, load.Scenario], meter: cpu.Meter, args, client: str) -> list[dict]:
    rounds = []
    for i in range(args.rounds + 1):
        warm = i == 0
        n = args.warmup if warm else args.requests
        label = "warm-up" if warm else f"round {i}/{args.rounds}"
        results = {}
        for name, sc in scs.items():
            before = meter.snapshot()
            results[name] = r = load.run(sc, base, n, args.connections, client)
            used = meter.delta(before, meter.snapshot())
            r["cpu_ms"] = {k: used[k] / max(r["requests"], 1) * 1000 for k in ("app", "db", "client")}
            print(f"  {label:<11} {name:<14} {r['rps']:>8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                  f"p99 {r['p99_ms']:6.1f} ms  non-200 {r['non200']}", flush=True)
            for s in r["samples"]:
                print(f"      non-200: {s[:300]}")
        if not warm:
            rounds.append(results)
            print_table(f"{label}:", results)
    return rounds


# ------------------------------------------------------------------------------------------------ shoppers

class Shopper:
    """A phone: its own cookie jar, signed in with the demo sign-in, one item in the cart, the checkout
    page read for its nonce."""

    def __init__(self, base: str, slug: str, nickname: str):
        self.base, self.slug, self.http = base, slug, browser()
        self.nonce = self.pickup_at = ""
        r = self.http.post(f"{base}/m/{slug}/signin/demo", data={"nickname": nickname, "next": f"/m/{slug}/"},
                           allow_redirects=False, timeout=60)
        _expect(r, (302, 303), "demo sign-in")

    def fill_cart(self, store_id: int, sku_id: int) -> Shopper:
        r = self.http.post(f"{self.base}/m/{self.slug}/cart/add",
                           data={"store_id": store_id, "sku_id": sku_id, "quantity": 1}, allow_redirects=False,
                           timeout=60)
        _expect(r, (302, 303), "cart/add")
        page = self.http.get(f"{self.base}/m/{self.slug}/checkout", timeout=60)
        _expect(page, (200,), "checkout page")
        self.nonce = NONCE.search(page.text).group(1)
        self.pickup_at = FIRST_PICKUP_TIME.search(page.text).group(1)  # 尽快, or the first slot once the store closes
        return self

    def checkout(self) -> requests.Response:
        return self.http.post(f"{self.base}/m/{self.slug}/checkout", allow_redirects=False, timeout=120,
                              data={"nonce": self.nonce, "fulfilment": "pickup", "pickup_at": self.pickup_at,
                                    "pay": "store"})


def _expect(r: requests.Response, statuses: tuple[int, ...], what: str) -> None:
    if r.status_code not in statuses:
        raise RuntimeError(f"{what}: {r.status_code} {r.text[:300]}")


def _prepare(base: str, slug: str, prefix: str, n: int, store_id: int, sku_id: int, threads: int = 8) -> list[Shopper]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda i: Shopper(base, slug, f"{prefix}{i}").fill_cart(store_id, sku_id), range(n)))


def _stock(engine: sa.Engine, store_id: int, sku_id: int, set_to: int | None = None) -> int:
    with engine.begin() as c:
        if set_to is not None:
            c.execute(sa.text("UPDATE store_stock SET quantity = :n WHERE store_id = :s AND sku_id = :k"),
                      {"n": set_to, "s": store_id, "k": sku_id})
        return c.execute(sa.text("SELECT quantity FROM store_stock WHERE store_id = :s AND sku_id = :k"),
                         {"s": store_id, "k": sku_id}).scalar()


def _lines(engine: sa.Engine, sku_id: int) -> int:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM order_lines WHERE sku_id = :k"), {"k": sku_id}).scalar()


def stock_race(base: str, slug: str, engine: sa.Engine, store_id: int, sku_id: int, shoppers_n: int = 20,
               last: int = 5) -> dict:
    shoppers = _prepare(base, slug, "抢购", shoppers_n, store_id, sku_id)
    _stock(engine, store_id, sku_id, set_to=last)
    lines_before = _lines(engine, sku_id)
    barrier = threading.Barrier(shoppers_n)
    times: list[tuple[float, float]] = [(0.0, 0.0)] * shoppers_n

    def go(i: int) -> requests.Response:
        barrier.wait()
        t0 = time.perf_counter()
        r = shoppers[i].checkout()
        times[i] = (t0, time.perf_counter())
        return r

    with ThreadPoolExecutor(max_workers=shoppers_n) as pool:
        answers = list(pool.map(go, range(shoppers_n)))
    placed = sum(a.status_code in (302, 303) for a in answers)
    refused = [a for a in answers if a.status_code == 409]
    other = [f"{a.status_code} {a.text[:200]}" for a in answers if a.status_code not in (302, 303, 409)]
    out = {
        "shoppers": shoppers_n, "stock": last, "placed": placed, "refused_409": len(refused),
        "refused_saying_out_of_stock": sum("库存不足" in a.text for a in refused), "other": other,
        "final_stock": _stock(engine, store_id, sku_id), "order_lines": _lines(engine, sku_id) - lines_before,
        "wall_ms": (max(t[1] for t in times) - min(t[0] for t in times)) * 1000,
        "slowest_ms": max(t[1] - t[0] for t in times) * 1000,
    }
    out["ok"] = (placed == last and len(refused) == shoppers_n - last and not other and out["final_stock"] == 0
                 and out["order_lines"] == last and out["refused_saying_out_of_stock"] == len(refused))
    return out


def place_orders(base: str, slug: str, engine: sa.Engine, meter: cpu.Meter, store_id: int, sku_id: int,
                 n: int, connections: int, label: str) -> dict:
    """n shoppers prepared beforehand, then n checkout POSTs through `connections` threads; only the POSTs
    are timed."""
    t = time.perf_counter()
    shoppers = _prepare(base, slug, f"下单{label}-", n, store_id, sku_id)
    prepare_s = time.perf_counter() - t
    stock_before = _stock(engine, store_id, sku_id)
    lines_before = _lines(engine, sku_id)
    times: list[tuple[float, float, int]] = [(0.0, 0.0, 0)] * n
    samples: list[str] = []

    def go(i: int) -> None:
        t0 = time.perf_counter()
        r = shoppers[i].checkout()
        times[i] = (t0, time.perf_counter(), r.status_code)
        if r.status_code not in (302, 303) and len(samples) < 5:
            samples.append(f"{r.status_code} {r.text[:300]}")

    before = meter.snapshot()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        list(pool.map(go, range(n)))
    used = meter.delta(before, meter.snapshot())
    wall = max(x[1] for x in times) - min(x[0] for x in times)
    lat = sorted((x[1] - x[0]) * 1000 for x in times)
    statuses: dict[str, int] = {}
    for x in times:
        statuses[str(x[2])] = statuses.get(str(x[2]), 0) + 1
    placed = sum(v for k, v in statuses.items() if k in ("302", "303"))
    out = {
        "orders": n, "connections": connections, "prepare_s": round(prepare_s, 2), "seconds": round(wall, 3),
        "orders_per_s": placed / wall, "p50_ms": load._percentile(lat, 50), "p90_ms": load._percentile(lat, 90),
        "p99_ms": load._percentile(lat, 99), "max_ms": lat[-1], "statuses": statuses, "failed": n - placed,
        "samples": samples, "cpu_ms": {k: used[k] / n * 1000 for k in ("app", "db", "client")},
        "stock_taken": stock_before - _stock(engine, store_id, sku_id),
        "order_lines": _lines(engine, sku_id) - lines_before,
    }
    out["ok"] = out["failed"] == 0 and out["stock_taken"] == n and out["order_lines"] == n
    return out


# ------------------------------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.shop", description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--redis", default=None, help="REDIS_URL for the app (default: Redis db 14 with PostgreSQL, "
                    "as deployed; none with SQLite); 'none' for none")
    ap.add_argument("--requests", type=int, default=3000, help="measured page requests per scenario and round")
    ap.add_argument("--warmup", type=int, default=300, help="unmeasured page requests per scenario first")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of pages and of order placement; median reported")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--orders", type=int, default=400, help="checkouts per order-placement round")
    ap.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    ap.add_argument("--admin-url", default=None, help="PostgreSQL server URL (default BENCH_DATABASE_URL or "
                                                      f"{server.DEFAULT_PG}); a new database is made on it")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    client = ("wrk" if load.has_wrk() else "python") if args.client == "auto" else args.client
    if client == "wrk" and not load.has_wrk():
        raise SystemExit("wrk is not installed (apt-get install -y wrk), or use --client python")

    git = lambda *a: subprocess.run(["git", *a], cwd=OUT.parent.parent, capture_output=True, text=True).stdout.strip()  # noqa: E731
    meta = {"git_head": git("rev-parse", "--short", "HEAD"),
            "git_dirty": bool(git("status", "--porcelain", "app", "templates")),
            "loadavg_start": os.getloadavg(), "engine": args.engine, "requests": args.requests,
            "warmup": args.warmup, "rounds": args.rounds, "connections": args.connections, "workers": args.workers,
            "orders": args.orders, "client": client, "accept_encoding": GZIP["Accept-Encoding"],
            "cpus": os.cpu_count(), "python": platform.python_version(), "started": datetime.now().isoformat()}
    print(f"bench.shop: {args.engine}, pages {args.rounds} x {args.requests:,} requests per scenario with "
          f"Accept-Encoding: gzip, {args.connections} connections, {args.workers} sync workers, client {client}, "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}", flush=True)
    if os.getloadavg()[0] > 1.0:
        print("  WARNING: the machine is busy (load average above 1): numbers will be low and noisy", flush=True)
    t_all = time.perf_counter()

    with server.fresh_database(args.engine, args.admin_url) as db_url:
        meta["redis"] = server.redis_for(args.engine, args.redis)
        env = server.app_env(db_url, redis_url=meta["redis"])
        t = time.perf_counter()
        demo = server.prepare(env)
        meta["prepare_seconds"] = round(time.perf_counter() - t, 2)
        slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
        cat = catalog(db_url)
        meta["catalog"] = cat
        engine = sa.create_engine(db_url)
        with engine.connect() as conn:
            meta["server_version"] = conn.execute(sa.text(
                "SELECT 'sqlite ' || sqlite_version()" if args.engine == "sqlite" else "SHOW server_version")).scalar()
        print(f"  upgrade + demo {meta['prepare_seconds']} s; {len(cat['products'])} products, "
              f"{len(cat['stores'])} stores", flush=True)
        with server.gunicorn(env, workers=args.workers) as (base, proc):
            scs = scenarios(slug, cat, member_cookie(base, slug))
            meter = cpu.Meter(proc.pid, db_url)
            meta["probe"] = {name: probe(base, sc) for name, sc in scs.items()}
            for name, p in meta["probe"].items():
                print(f"  {name:<14} {p['path']:<32} {p['status']} {p['encoding']:<8} {p['wire_bytes']:>6} bytes "
                      f"on the wire, {p['body_bytes']:>6} unpacked", flush=True)
            rounds = run_pages(base, scs, meter, args, client)

            print("\nstock race: 20 shoppers, the last 5 items", flush=True)
            race = stock_race(base, slug, engine, store_id, cat["race_sku"])
            print(f"  placed {race['placed']}, refused (409) {race['refused_409']}, other {len(race['other'])}, "
                  f"final stock {race['final_stock']}, order lines {race['order_lines']}; "
                  f"{race['wall_ms']:.0f} ms wall, slowest answer {race['slowest_ms']:.0f} ms "
                  f"-> {'OK' if race['ok'] else 'FAILED'}", flush=True)
            for o in race["other"]:
                print(f"      unexpected: {o}")

            print(f"\norder placement: {args.orders} shoppers per round, {args.connections} at a time", flush=True)
            _stock(engine, store_id, cat["order_sku"], set_to=1_000_000)
            warm = place_orders(base, slug, engine, meter, store_id, cat["order_sku"], args.connections,
                                args.connections, "w")
            print(f"  warm-up     {warm['orders_per_s']:6.1f} orders/s ({args.connections} orders)", flush=True)
            orders = []
            for i in range(1, args.rounds + 1):
                r = place_orders(base, slug, engine, meter, store_id, cat["order_sku"], args.orders,
                                 args.connections, str(i))
                orders.append(r)
                print(f"  round {i}/{args.rounds}   {r['orders_per_s']:6.1f} orders/s  p50 {r['p50_ms']:6.1f} ms  "
                      f"p90 {r['p90_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  failed {r['failed']}  "
                      f"app CPU {r['cpu_ms']['app']:.1f} ms/order, db {r['cpu_ms']['db']:.1f}, client "
                      f"{r['cpu_ms']['client']:.1f}  (prepared in {r['prepare_s']} s) "
                      f"-> {'OK' if r['ok'] else 'FAILED'}", flush=True)
                for s in r["samples"]:
                    print(f"      failed: {s}")
            meter.close()
        engine.dispose()

    meta["loadavg_end"] = os.getloadavg()
    meta["total_seconds"] = round(time.perf_counter() - t_all, 1)
    summary = summarise(rounds)
    rat = {f"{a} / {b}": summary[a]["rps"] / summary[b]["rps"] for a, b in RATIOS}
    server_cpu = {k: v["cpu_ms"]["app"] + v["cpu_ms"]["db"] for k, v in summary.items()}
    crat = {f"{a} / {b}": server_cpu[b] / server_cpu[a] for a, b in RATIOS if server_cpu[a] > 0}
    med = lambda k: statistics.median(r[k] for r in orders)  # noqa: E731
    order_summary = {"orders_per_s": med("orders_per_s"), "p50_ms": med("p50_ms"), "p90_ms": med("p90_ms"),
                     "p99_ms": med("p99_ms"), "failed": sum(r["failed"] for r in orders),
                     "cpu_ms": {k: statistics.median(r["cpu_ms"][k] for r in orders) for k in ("app", "db", "client")},
                     "ok": all(r["ok"] for r in orders)}

    print_table(f"Pages, median of {args.rounds} round(s) — {args.engine}, {client}, {args.connections} connections, "
                f"{args.workers} sync workers, Accept-Encoding: gzip:", summary)
    print("\nB/resp: bytes per response (wrk: on the wire, headers + gzip body; python client: body only). CPU columns: ms of CPU per request "
          "used by gunicorn (app), the PostgreSQL backends (db; 0 for SQLite) and the load client.")
    print("\nratios:                   req/s   server CPU per request (inverse)")
    for k, v in rat.items():
        print(f"  {k:<22} {v:6.0%}   {crat.get(k, float('nan')):6.0%}")
    print(f"\nstock race: {race['placed']} placed (must be 5), {race['refused_409']} refused 409, final stock "
          f"{race['final_stock']} (must be 0), {race['wall_ms']:.0f} ms wall -> {'OK' if race['ok'] else 'FAILED'}")
    print(f"order placement (median of {len(orders)} x {args.orders}): {order_summary['orders_per_s']:.1f} orders/s, "
          f"p50 {order_summary['p50_ms']:.0f} ms, p90 {order_summary['p90_ms']:.0f} ms, p99 {order_summary['p99_ms']:.0f} ms, "
          f"failed {order_summary['failed']}; server CPU {order_summary['cpu_ms']['app']:.1f} ms app + "
          f"{order_summary['cpu_ms']['db']:.1f} ms db per order -> {'OK' if order_summary['ok'] else 'FAILED'}")
    total_bad = sum(r["non200"] for r in summary.values())
    print(f"\nnon-200 page responses in measured rounds: {total_bad}")
    print(f"load average at start {meta['loadavg_start'][0]:.2f}, at end {meta['loadavg_end'][0]:.2f}; "
          f"{meta['total_seconds']} s in all; app at {meta['git_head']}"
          f"{' + uncommitted changes' if meta['git_dirty'] else ''}")
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = OUT / f"{stamp}-shop-{args.engine}.json"
    path.write_text(json.dumps({"meta": meta, "summary": summary, "ratios": rat, "cpu_ratios": crat,
                                "race": race, "orders": order_summary, "order_rounds": orders, "rounds": rounds},
                               indent=2, ensure_ascii=False))
    print(f"written {path.relative_to(OUT.parent.parent)}")
    return 1 if total_bad or not race["ok"] or not order_summary["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
