"""PostgreSQL cut off for 3 s under a redeem load, on gunicorn with 4 sync workers reaching the database
through a TCP proxy (tests/support/proxy.py) — the machine's PostgreSQL itself is never touched.

What must hold: every answer is a 200 or a 503 (never a 500), every 200 is in the database once, the app
answers 200 again within 10 s of the cut ending without a restart, and a client that retries its failures
with the same idempotency key ends with every voucher redeemed exactly once."""
from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

from tests.support.databases import base_url, fresh_database
from tests.support.live import app_env, gunicorn, prepare
from tests.support.proxy import TcpProxy

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not (base_url() or "").startswith("postgres"),
                       reason="cuts the TCP connections to PostgreSQL (TEST_DATABASE_URL)"),
]

VOUCHERS = 320
THREADS = 8
CUT_SECONDS = 3.0


def post(base: str, path: str, body: dict, key: str) -> tuple[int, dict, dict]:
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        r = conn.getresponse()
        raw = r.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"raw": raw[:300].decode("utf-8", "replace")}
        return r.status, data, dict(r.getheaders())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def proxied_server():
    with fresh_database("dbcut") as url:
        demo = prepare(app_env(url))
        with TcpProxy.for_url(url) as proxy:
            env = app_env(proxy.url_for(url))
            with gunicorn(env, workers=4) as base:
                engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
                yield base, demo, proxy, engine
                engine.dispose()
            proxy.restore()


def test_postgresql_cut_for_3s_under_redeem_load(proxied_server):
    base, demo, proxy, engine = proxied_server
    merchant_key, counter_key = demo["merchant"]["api_key"], demo["stores"][0]["counter_key"]

    def issue(i):
        status, body, _ = post(base, "/api/v1/vouchers", {"title": f"断库测试券 {i}"}, merchant_key)
        assert status == 201, body
        return body

    with ThreadPoolExecutor(THREADS) as pool:
        vouchers = list(pool.map(issue, range(VOUCHERS)))

    log: list[tuple[float, int, str, str]] = []  # (time, status, error code, idempotency key)
    answers: dict[str, dict] = {}                 # key -> the 200 answer
    lock = threading.Lock()
    done = threading.Event()
    progress = [0]

    def redeem_until_ok(v: dict) -> None:
        key = f"load-{v['id']}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, body, headers = post(base, "/api/v1/counter/redeem",
                                             {"code": v["code"], "idempotency_key": key}, counter_key)
            except OSError as exc:  # no answer at all would be a failure of its own
                status, body, headers = -1, {"error": {"code": type(exc).__name__}}, {}
            code = (body.get("error") or {}).get("code", "")
            with lock:
                log.append((time.monotonic(), status, code, key))
            if status == 200:
                with lock:
                    answers[key] = body
                    progress[0] += 1
                return
            if status == 503:
                assert headers.get("Retry-After"), headers
            time.sleep(0.25)  # the same request again, with the same key (the counter page does the same)

    def run_share(share: list[dict]) -> None:
        for v in share:
            redeem_until_ok(v)

    shares = [vouchers[i::THREADS] for i in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(run_share, s) for s in shares]
        while progress[0] < VOUCHERS // 4 and not all(f.done() for f in futures):
            time.sleep(0.05)
        cut_at = time.monotonic()
        proxy.cut()
        time.sleep(CUT_SECONDS)
        proxy.restore()
        restored_at = time.monotonic()
        for f in futures:
            f.result()
    done.set()

    statuses = {s for _, s, _, _ in log}
    assert statuses <= {200, 503}, sorted((s, c) for _, s, c, _ in log if s not in (200, 503))[:10]
    failures = [(t, c) for t, s, c, _ in log if s == 503]
    assert failures, "the cut should have made some requests fail"
    assert {c for _, c in failures} == {"service_unavailable"}
    assert all(t >= cut_at - 0.5 for t, _ in failures), "a 503 before the cut"
    first_ok_after = min(t for t, s, _, _ in log if s == 200 and t > restored_at)
    assert first_ok_after - restored_at < 10, f"200s again only after {first_ok_after - restored_at:.1f} s"

    # Every 200 is durable, once; every voucher was redeemed exactly once after the retries.
    assert len(answers) == VOUCHERS
    with engine.connect() as c:
        rows = c.execute(sa.text(
            "SELECT r.id, r.voucher_id, v.status FROM redemptions r JOIN vouchers v ON v.id = r.voucher_id "
            "WHERE v.title LIKE '断库测试券 %'")).all()
    per_voucher: dict[int, list[int]] = {}
    for rid, vid, _status in rows:
        per_voucher.setdefault(vid, []).append(rid)
    assert len(per_voucher) == VOUCHERS and all(len(ids) == 1 for ids in per_voucher.values())
    assert {status for _, _, status in rows} == {"redeemed"}
    for v in vouchers:
        assert answers[f"load-{v['id']}"]["redemption"]["id"] == per_voucher[v["id"]][0]
    print(f"\n{len(log)} requests, {len(failures)} × 503 during a {CUT_SECONDS:.0f} s cut, "
          f"200 again {first_ok_after - restored_at:.2f} s after it")
