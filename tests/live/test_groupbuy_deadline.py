"""A team's deadline for real: two Huey consumer processes (a SQLite queue, not the tests' immediate mode)
start at once, each running the deadline sweep, with the team's delayed task waiting in the queue too. The
team fails once, and each paid member's own order is refunded exactly once."""
from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.live.test_groupbuy_race import _member, _pay
from tests.support.live import BIN, ROOT, add_groupbuy_campaign

pytestmark = pytest.mark.live


def _executed(log) -> str:
    return "\n".join(line for line in log.read_text().splitlines() if "executed in" in line)


def test_two_workers_and_the_delayed_task_fail_a_team_once(live, tmp_path):
    base, demo, engine = live.base, live.demo, live.engine
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as c:
        sku_id = c.execute(sa.text("SELECT max(id) FROM skus")).scalar()
        c.execute(sa.text("UPDATE store_stock SET quantity = 50 WHERE sku_id = :k"), {"k": sku_id})
        campaign_id = add_groupbuy_campaign(c, demo["merchant"]["id"], sku_id, store_id, title="到期 3 人团",
                                           price_fen=900, size=3, hours=1, stock=10, limit=1)
    leader = _member(base, slug, "到期团长")
    r = leader.post(f"{base}/m/{slug}/g/{campaign_id}/open", data={"store_id": store_id}, allow_redirects=False,
                    timeout=30)
    paid = [_pay(leader, base, r.headers["Location"].replace(base, ""))]
    with engine.connect() as c:
        team_id = c.execute(sa.text("SELECT id FROM groupbuy_teams WHERE campaign_id = :c"), {"c": campaign_id}).scalar()
    friend = _member(base, slug, "到期好友")
    r = friend.post(f"{base}/m/{slug}/t/{team_id}/join", allow_redirects=False, timeout=30)
    paid.append(_pay(friend, base, r.headers["Location"].replace(base, "")))
    with engine.begin() as c:  # the hour passes
        c.execute(sa.text("UPDATE groupbuy_teams SET deadline_at = :d WHERE id = :t"),
                  {"d": now - timedelta(minutes=1), "t": team_id})

    env = {k: v for k, v in live.env.items() if k != "HUEY_IMMEDIATE"}
    env["HUEY_SQLITE_PATH"] = str(tmp_path / "queue.sqlite3")
    # The delayed task, as scheduled when the team opened, is in the queue when the workers start.
    subprocess.run([str(BIN / "python"), "-c",
                    "from app import create_app\n"
                    "app = create_app()\n"
                    f"with app.app_context(): app.extensions['tasks']['groupbuys.fail_if_due']({team_id})\n"],
                   cwd=ROOT, env=env, check=True, timeout=60)
    logs, workers = [tmp_path / "w0.log", tmp_path / "w1.log"], []
    for log in logs:
        out = log.open("w")
        workers.append(subprocess.Popen([str(BIN / "huey_consumer"), "app.jobs.huey", "--workers", "2", "-k", "thread"],
                                        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = [_executed(log) for log in logs]
            if all("groupbuys.fail_due" in d for d in done) and any("groupbuys.fail_if_due" in d for d in done) \
                    and "payments.send_refund" in "".join(done):
                break
            time.sleep(0.3)
        time.sleep(1.0)  # let the refunds queued by the winner finish
    finally:
        for w in workers:
            w.terminate()
            w.wait(timeout=20)
    text = "\n".join(log.read_text()[-1500:] for log in logs)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT status FROM groupbuy_teams WHERE id = :t"), {"t": team_id}).scalar() \
            == "failed", text
        q = sa.text("SELECT order_id, count(*), min(status), count(DISTINCT out_refund_no) FROM refunds"
                    " WHERE order_id IN :ids GROUP BY order_id").bindparams(sa.bindparam("ids", expanding=True))
        rows = {r[0]: r[1:] for r in c.execute(q, {"ids": tuple(paid)})}
        assert rows == {oid: (1, "succeeded", 1) for oid in paid}, (rows, text)  # one refund each, sandbox settled
        q = sa.text("SELECT count(*) FROM orders WHERE id IN :ids AND status = 'refunded'").bindparams(
            sa.bindparam("ids", expanding=True))
        assert c.execute(q, {"ids": tuple(paid)}).scalar() == 2
