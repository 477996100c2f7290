"""The job worker for real: a Huey consumer process (SQLite queue, not the tests' immediate mode) cancels
an overdue unpaid order placed through the shop, and returns its stock; running the job twice is harmless."""
from __future__ import annotations

import re
import subprocess
import time

import pytest
import requests
import sqlalchemy as sa

from tests.support.live import BIN, ROOT, first_pickup_time, shop_session

pytestmark = pytest.mark.live


def test_consumer_cancels_an_overdue_order_and_returns_stock(live, tmp_path):
    slug, store_id = live.demo["merchant"]["slug"], live.demo["stores"][0]["id"]
    s = shop_session()
    s.post(f"{live.base}/m/{slug}/signin/demo", data={"nickname": "慢慢付"}, timeout=30)
    with live.engine.connect() as c:
        sku_id = c.execute(sa.text("SELECT max(id) FROM skus")).scalar()
    s.post(f"{live.base}/m/{slug}/cart/add", data={"store_id": store_id, "sku_id": sku_id, "quantity": 2}, timeout=30)
    checkout = s.get(f"{live.base}/m/{slug}/checkout", timeout=30).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', checkout).group(1)
    r = s.post(f"{live.base}/m/{slug}/checkout", allow_redirects=False, timeout=30,
               data={"nonce": nonce, "fulfilment": "pickup", "pickup_at": first_pickup_time(checkout), "pay": "online"})
    assert r.status_code in (302, 303), r.text[:300]
    order_id = int(re.search(r"/orders/(\d+)", r.headers["Location"]).group(1))

    def state():
        with live.engine.connect() as c:
            status = c.execute(sa.text("SELECT status FROM orders WHERE id = :o"), {"o": order_id}).scalar()
            stock = c.execute(sa.text("SELECT quantity FROM store_stock WHERE store_id = :s AND sku_id = :k"),
                              {"s": store_id, "k": sku_id}).scalar()
            return status, stock

    status, reserved_stock = state()
    assert status == "pending_payment"
    with live.engine.begin() as c:  # 20 minutes pass
        c.execute(sa.text("UPDATE orders SET expires_at = created_at - interval '5 minutes' WHERE id = :o"
                          if live.engine.dialect.name == "postgresql" else
                          "UPDATE orders SET expires_at = datetime(created_at, '-5 minutes') WHERE id = :o"),
                  {"o": order_id})

    env = {k: v for k, v in live.env.items() if k != "HUEY_IMMEDIATE"}
    env["HUEY_SQLITE_PATH"] = str(tmp_path / "queue.sqlite3")
    for run in range(2):  # a second consumer run executes the job again and changes nothing
        log = tmp_path / f"worker{run}.log"
        with log.open("w") as out:
            worker = subprocess.Popen([str(BIN / "huey_consumer"), "app.jobs.huey", "--workers", "1", "-k", "thread"],
                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 60
                while "orders.cancel_expired: " not in _executed(log) and time.monotonic() < deadline:
                    time.sleep(0.3)
            finally:
                worker.terminate()
                worker.wait(timeout=20)
        assert "orders.cancel_expired: " in _executed(log), log.read_text()[-2000:]
        assert state() == ("cancelled", reserved_stock + 2), log.read_text()[-2000:]


def _executed(log) -> str:
    """The consumer's 'executed in' lines (huey logs one when a task finished without error)."""
    return "\n".join(line for line in log.read_text().splitlines() if "executed in" in line)
