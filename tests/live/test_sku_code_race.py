"""Two console sessions add a SKU with the same article code (货号) at the same instant, on gunicorn with 4
workers: one is created, the other is refused `duplicate_sku_code` (409), never a 500 and never two."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.support.live import console_session

pytestmark = pytest.mark.live

ROUNDS = 8


def test_the_same_sku_code_twice_at_once(server):
    base, _demo, engine = server
    first, second = console_session(base), console_session(base)
    r = first.post(f"{base}/console/products/new", data={"csrf_token": first.csrf, "name": "并发货号测试"},
                   files={"photo": ("", b"")}, allow_redirects=False, timeout=30)  # unpublished: not in the shop
    assert r.status_code == 302, r.text[:300]
    product_id = int(re.search(r"/console/products/(\d+)$", r.headers["Location"]).group(1))

    statuses = []
    for i in range(ROUNDS):
        barrier = threading.Barrier(2)

        def add(session, name, code=f"RACE-{i}"):
            barrier.wait()
            return session.post(f"{base}/console/products/{product_id}/skus", timeout=30, allow_redirects=False,
                                data={"csrf_token": session.csrf, "name": name, "code": code, "price": "10"})

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(add, (first, second), ("甲", "乙")))
        statuses.append(sorted(a.status_code for a in answers))
        refused = next((a for a in answers if a.status_code == 409), None)
        assert refused is not None and f"货号 RACE-{i} 已被其他 SKU 使用" in refused.text, [a.status_code for a in answers]
    assert statuses == [[302, 409]] * ROUNDS
    with engine.connect() as c:
        codes = c.execute(sa.text("SELECT code FROM skus WHERE product_id = :p ORDER BY code"),
                          {"p": product_id}).scalars().all()
    assert codes == [f"RACE-{i}" for i in range(ROUNDS)]
