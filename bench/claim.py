"""A flash claim: many members claiming one campaign's coupons at once, against its database ceiling.

    .venv/bin/python -m bench.claim --engine postgresql
    .venv/bin/python -m bench.claim --engine sqlite

Makes a fresh database, `flask db upgrade` + the demo, N members (one per claim) and two campaigns whose
quotas are exactly the claims each will receive, starts gunicorn (4 sync workers) on `bench.bench_app:app`
and measures, with C connections: `json` (the HTTP ceiling), `bare-claim` (the conditional increment plus
the voucher and coupon INSERTs, Core, no checks: bench_app) and `claim` (the real `POST
/m/<shop>/coupons/<id>/claim` of the shop, each request a different signed-in member: its session cookie).
After the run the database must hold exactly quota coupons per campaign and `claimed == quota`; any
non-200 fails the run.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bench import cpu, load, server

OUT = Path(__file__).resolve().parent / "out"
ORDER = ["json", "bare-claim", "claim"]


def make_members(db_url: str, merchant_id: int, n: int) -> list[int]:
    engine = sa.create_engine(db_url)
    now = datetime.utcnow()
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO members (merchant_id, openid, nickname, avatar_url, points, is_demo, "
                             "created_at) VALUES (:m, :o, :n, '', 0, false, :t)"),
                     [{"m": merchant_id, "o": f"bench-{i}", "n": f"抢券{i}", "t": now} for i in range(n)])
        ids = list(conn.execute(sa.text("SELECT id FROM members WHERE openid LIKE 'bench-%' ORDER BY id")).scalars())
    engine.dispose()
    return ids


def make_campaign(db_url: str, merchant_id: int, quota: int, name: str) -> int:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        cid = conn.execute(sa.text(
            "INSERT INTO campaigns (merchant_id, name, rules_text, type, value_fen, uses, quota, claimed, per_member,"
            " days_after_claim, all_stores, all_products, online, counter, with_member_price, transferable, status,"
            " created_at, updated_at) VALUES (:m, :n, '', 'cash_off', 500, 1, :q, 0, 1, 7, true, true, true, true,"
            " true, false, 'active', :t, :t) RETURNING id"),
            {"m": merchant_id, "n": name, "q": quota, "t": datetime.utcnow()}).scalar()
    engine.dispose()
    return cid


CSRF = "benchclaim" + "0" * 22


def session_cookies(env: dict, merchant_id: int, member_ids: list[int]) -> list[str]:
    """The signed session cookie of each member, as the demo sign-in would set it."""
    os.environ.update({k: v for k, v in env.items() if k in ("SECRET_KEY", "DATABASE_URL")})
    from app import create_app

    app = create_app({"SECRET_KEY": env["SECRET_KEY"]})
    signer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    # with the shop's CSRF cookie, as a phone has it from the campaign page (sent back as X-CSRFToken)
    return [f"{name}={signer.dumps({'members': {str(merchant_id): m}, '_permanent': True})}; csrf={CSRF}"
            for m in member_ids]


def counts(db_url: str, campaign_id: int) -> tuple[int, int, int]:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        quota, claimed = conn.execute(sa.text("SELECT quota, claimed FROM campaigns WHERE id = :c"), {"c": campaign_id}).one()
        coupons = conn.execute(sa.text("SELECT count(*) FROM coupons WHERE campaign_id = :c"), {"c": campaign_id}).scalar()
    engine.dispose()
    return quota, claimed, coupons


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.claim", description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--requests", type=int, default=2000, help="measured claims per scenario and round")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    client = ("wrk" if load.has_wrk() else "python") if args.client == "auto" else args.client
    # Each connection may run a few requests past its share: every request still has a member of its own.
    per_round = load.codes_needed(args.requests, args.connections)
    warm = load.codes_needed(args.warmup, args.connections)
    total = warm + args.rounds * per_round
    print(f"bench.claim: {args.engine}, {args.rounds} x {args.requests:,} claims per scenario, {args.connections} "
          f"connections, {args.workers} workers, client {client}; load average {os.getloadavg()[0]:.2f}", flush=True)
    rounds: list[dict] = []
    with server.fresh_database(args.engine) as db_url:
        env = server.app_env(db_url, redis_url=server.redis_for(args.engine, None))
        demo = server.prepare(env)
        merchant_id, slug = demo["merchant"]["id"], demo["merchant"]["slug"]
        members = make_members(db_url, merchant_id, total)
        cookies = session_cookies(env, merchant_id, members)
        plan = []
        for r in range(args.rounds + 1):
            n = args.warmup if r == 0 else args.requests
            lo = 0 if r == 0 else warm + (r - 1) * per_round
            hi = lo + (warm if r == 0 else per_round)
            plan.append((n, members[lo:hi], cookies[lo:hi]))
        # Quotas of exactly what the scenarios will claim: counted after the run (wrk may overshoot a little,
        # so the quota is what the 200s reached; it must never be passed).
        bare_cid = make_campaign(db_url, merchant_id, total, "bare")
        claim_cid = make_campaign(db_url, merchant_id, total, "抢券")
        ok = {"bare-claim": 0, "claim": 0}
        with server.gunicorn(env, workers=args.workers) as (base, proc):
            meter = cpu.Meter(proc.pid, db_url)
            for i, (n, ids, jar) in enumerate(plan):
                label = "warm-up" if i == 0 else f"round {i}/{args.rounds}"
                scenarios = {
                    "json": load.Scenario("json", "GET", "/bench/json"),
                    "bare-claim": load.Scenario("bare-claim", "POST", "/bench/bare-claim",
                                                '{"campaign_id": %d, "member_id": @CODE@, "code": "B@CODE@"}' % bare_cid,
                                                codes=[str(m) for m in ids]),
                    "claim": load.Scenario("claim", "POST", f"/m/{slug}/coupons/{claim_cid}/claim", None,
                                           {"Cookie": "@CODE@", "Accept": "application/json",
                                            "X-CSRFToken": CSRF}, codes=jar),
                }
                results = {}
                for name, sc in scenarios.items():
                    before = meter.snapshot()
                    results[name] = res = load.run(sc, base, n, args.connections, client)
                    used = meter.delta(before, meter.snapshot())
                    res["cpu_ms"] = {k: used[k] / max(res["requests"], 1) * 1000 for k in ("app", "db", "client")}
                    if name in ok:
                        ok[name] += res["statuses"].get("200", 0)
                    print(f"  {label:<11} {name:<11} {res['rps']:>8.1f} claims/s  p50 {res['p50_ms']:6.1f} ms  "
                          f"p99 {res['p99_ms']:6.1f} ms  non-200 {res['non200']}", flush=True)
                    for s in res["samples"]:
                        print(f"      non-200: {s[:300]}")
                if i:
                    rounds.append(results)
            meter.close()
        checks = {"bare-claim": counts(db_url, bare_cid), "claim": counts(db_url, claim_cid)}
    summary = {name: {k: statistics.median(r[name][k] for r in rounds) for k in ("rps", "p50_ms", "p99_ms")}
               for name in ORDER}
    bad = sum(r[name]["non200"] for r in rounds for name in ORDER)
    print(f"\nMedian of {args.rounds} rounds — {args.engine}:")
    for name in ORDER:
        s = summary[name]
        print(f"  {name:<11} {s['rps']:>8.1f} /s  p50 {s['p50_ms']:6.1f} ms  p99 {s['p99_ms']:6.1f} ms")
    ratio_bare = summary["claim"]["rps"] / summary["bare-claim"]["rps"]
    ratio_json = summary["claim"]["rps"] / summary["json"]["rps"]
    print(f"  claim / bare-claim {ratio_bare:.0%}   claim / json {ratio_json:.0%}")
    # The campaign's count is exactly the coupons made, never above the quota, and every 200 counted made one
    # (wrk stops counting at its quota with a few requests in flight: the database may hold a few more).
    consistent = all(claimed == coupons >= ok[name] and claimed <= quota for name, (quota, claimed, coupons) in checks.items())
    print(f"database check: {'OK' if consistent else 'MISMATCH'} (quota, claimed, coupons) {checks}; 200s {ok}")
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{datetime.now():%Y%m%d-%H%M%S}-claim-{args.engine}.json"
    path.write_text(json.dumps({"summary": summary, "ratios": {"claim/bare-claim": ratio_bare, "claim/json": ratio_json},
                                "checks": checks, "ok": ok, "rounds": rounds}, indent=2, ensure_ascii=False))
    print(f"written {path.relative_to(OUT.parent.parent)}")
    return 1 if bad or not consistent else 0


if __name__ == "__main__":
    sys.exit(main())
