"""The job worker down for "an hour": orders go overdue and a refund waits, then a real Huey consumer
starts. What must happen was recorded in the database when it was decided, so the sweeps (which a starting
consumer runs at once) find it: the overdue orders are cancelled and their stock returned, the refund is
sent; each once, and a second start changes nothing.

Two cases: the queue kept its messages while the worker was down (the consumer finds them beside the
sweeps), and the queue lost them (Redis down or flushed: the consumer starts on an empty queue)."""
from __future__ import annotations

import re
import subprocess
import time

import pytest
import requests
import sqlalchemy as sa

from tests.support.databases import fresh_database
from tests.support.live import BIN, ROOT, app_env, gunicorn, prepare, shop_session

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def queued_server(tmp_path_factory):
    """gunicorn whose jobs go to a real queue (a Huey SQLite file) that no worker reads yet."""
    queue = tmp_path_factory.mktemp("queue") / "web.sqlite3"
    with fresh_database("workerdown") as url:
        env = {k: v for k, v in app_env(url).items() if k != "HUEY_IMMEDIATE"}
        env["HUEY_SQLITE_PATH"] = str(queue)
        demo = prepare(env)
        with gunicorn(env, workers=2) as base:
            engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            yield base, demo, engine, env
            engine.dispose()


def _shop(base: str, demo: dict, nickname: str) -> requests.Session:
    s = shop_session()
    s.post(f"{base}/m/{demo['merchant']['slug']}/signin/demo", data={"nickname": nickname}, timeout=30)
    return s


def _place(s: requests.Session, base: str, demo: dict, sku_id: int) -> int:
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    s.post(f"{base}/m/{slug}/cart/add", data={"store_id": store_id, "sku_id": sku_id, "quantity": 1}, timeout=30)
    checkout = s.get(f"{base}/m/{slug}/checkout", timeout=30).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', checkout).group(1)
    # The first pickup time the page offers ("asap" while the store can still make it today, else a slot):
    # the servers run at the real clock, at any hour.
    pickup_at = re.search(r'data-testid="pickup-at">.*?<option value="([^"]+)"', checkout, re.S).group(1)
    r = s.post(f"{base}/m/{slug}/checkout", allow_redirects=False, timeout=30,
               data={"nonce": nonce, "fulfilment": "pickup", "pickup_at": pickup_at, "pay": "online"})
    assert r.status_code in (302, 303), r.text[:300]
    return int(re.search(r"/orders/(\d+)", r.headers["Location"]).group(1))


def _pay_in_sandbox(s: requests.Session, base: str, order_id: int) -> None:
    r = s.get(f"{base}/orders/{order_id}/pay", allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303) and "/pay/sandbox/" in r.headers["Location"], r.text[:300]
    r = s.post(base + r.headers["Location"].replace(base, ""), data={"result": "success"}, allow_redirects=False,
               timeout=30)
    assert r.status_code in (302, 303)


def _run_consumer(env: dict, log_path, until, timeout: float = 90) -> str:
    """Runs `huey_consumer app.jobs.huey` until `until()` holds and the start-up sweeps have run."""
    with log_path.open("w") as out:
        worker = subprocess.Popen([str(BIN / "huey_consumer"), "app.jobs.huey", "--workers", "1", "-k", "thread"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                log = log_path.read_text()
                if until() and "payments.retry_stuck_refunds: " in _executed(log) \
                        and "orders.cancel_expired: " in _executed(log):
                    break
                time.sleep(0.3)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
    return log_path.read_text()


def _executed(log: str) -> str:
    return "\n".join(line for line in log.splitlines() if "executed in" in line)


@pytest.mark.parametrize("queue", ["kept", "lost"])
def test_an_hour_without_a_worker_is_caught_up_once_on_restart(queued_server, tmp_path, queue):
    base, demo, engine, web_env = queued_server
    with engine.connect() as c:
        sku_id = c.execute(sa.text("SELECT max(id) FROM skus")).scalar()
    store_id = demo["stores"][0]["id"]
    s = _shop(base, demo, f"等不及-{queue}")
    overdue = [_place(s, base, demo, sku_id) for _ in range(2)]
    paid = _place(s, base, demo, sku_id)
    _pay_in_sandbox(s, base, paid)
    r = s.post(f"{base}/orders/{paid}/refund", data={"reason": "不想要了"}, allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303), r.text[:300]

    def stock() -> int:
        with engine.connect() as c:
            return c.execute(sa.text("SELECT quantity FROM store_stock WHERE store_id = :s AND sku_id = :k"),
                             {"s": store_id, "k": sku_id}).scalar()

    def refund_row():
        with engine.connect() as c:
            return c.execute(sa.text("SELECT status, attempts FROM refunds WHERE order_id = :o"), {"o": paid}).one()

    def statuses() -> dict[int, str]:
        with engine.connect() as c:
            return dict(c.execute(sa.text("SELECT id, status FROM orders WHERE id IN :ids")
                                  .bindparams(sa.bindparam("ids", expanding=True)), {"ids": overdue + [paid]}).all())

    assert refund_row() == ("pending", 0)  # recorded; its message waits in a queue nobody reads
    assert {statuses()[o] for o in overdue} == {"pending_payment"}
    stock_before = stock()

    # An hour passes without a worker: the deadlines and the refund's age move back by an hour.
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as c:
        c.execute(sa.text("UPDATE orders SET expires_at = expires_at - interval '1 hour', "
                          "created_at = created_at - interval '1 hour' WHERE id IN :ids" if pg else
                          "UPDATE orders SET expires_at = datetime(expires_at, '-1 hour'), "
                          "created_at = datetime(created_at, '-1 hour') WHERE id IN :ids")
                  .bindparams(sa.bindparam("ids", expanding=True)), {"ids": overdue})
        c.execute(sa.text("UPDATE refunds SET created_at = created_at - interval '1 hour' WHERE order_id = :o" if pg
                          else "UPDATE refunds SET created_at = datetime(created_at, '-1 hour') WHERE order_id = :o"),
                  {"o": paid})

    env = dict(web_env)
    if queue == "lost":
        env["HUEY_SQLITE_PATH"] = str(tmp_path / "empty-queue.sqlite3")

    def caught_up() -> bool:
        st = statuses()
        return all(st[o] == "cancelled" for o in overdue) and refund_row()[0] == "succeeded"

    log = _run_consumer(env, tmp_path / "worker1.log", caught_up)
    assert caught_up(), log[-3000:]
    assert stock() == stock_before + 2
    assert refund_row() == ("succeeded", 1), log[-3000:]  # sent once
    with engine.connect() as c:
        expired_events = c.execute(sa.text(
            "SELECT order_id, count(*) FROM order_events WHERE kind = 'expired' AND order_id IN :ids GROUP BY order_id")
            .bindparams(sa.bindparam("ids", expanding=True)), {"ids": overdue}).all()
    assert sorted(expired_events) == sorted((o, 1) for o in overdue)
    assert statuses()[paid] == "refunded"

    # Started again (a second deploy, a second machine): nothing more happens.
    log = _run_consumer(env, tmp_path / "worker2.log", lambda: True)
    assert stock() == stock_before + 2 and refund_row() == ("succeeded", 1), log[-3000:]
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM order_events WHERE kind = 'expired' AND order_id IN :ids")
                         .bindparams(sa.bindparam("ids", expanding=True)), {"ids": overdue}).scalar() == 2
