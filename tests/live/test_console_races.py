"""Real parallel console requests to gunicorn (4 sync workers): two people reissuing the same voucher at the
same moment make one new voucher; the database decides (a conditional revoke, a unique replaces_id)."""
from __future__ import annotations

import re

import pytest
import requests

from tests.support import live as live_support
from tests.support.live import shop_session
import sqlalchemy as sa

from tests.live.test_races import in_parallel, issue

pytestmark = pytest.mark.live


def console_session(base: str, username: str) -> tuple[dict, str]:
    """Signs in to the console; returns its cookies and CSRF token (usable from any thread, unlike a Session)."""
    s = live_support.console_session(base, username)
    return s.cookies.get_dict(), s.csrf


def test_ten_parallel_reissues_of_one_voucher_make_one_new_voucher(server):
    base, demo, engine = server
    v = issue(base, demo, uses=3)
    cookies, token = console_session(base, "owner")

    def reissue(i):
        r = requests.post(f"{base}/console/vouchers/{v['id']}/reissue", cookies=cookies, allow_redirects=False,
                          data={"csrf_token": token, "reason": f"丢失 {i}"}, timeout=30)
        return r.status_code, r.text

    results = in_parallel(10, reissue)
    statuses = sorted(s for s, _ in results)
    assert statuses == [302] + [409] * 9, statuses
    assert all("已补发过" in body for s, body in results if s == 409)
    with engine.connect() as c:
        new = c.execute(sa.text("SELECT id, uses_left, status FROM vouchers WHERE replaces_id = :v"),
                        {"v": v["id"]}).all()
        assert len(new) == 1 and tuple(new[0])[1:] == (3, "issued")
        assert c.execute(sa.text("SELECT status FROM vouchers WHERE id = :v"), {"v": v["id"]}).scalar() == "revoked"
        revoked = c.execute(sa.text("SELECT count(*) FROM voucher_events WHERE voucher_id = :v AND kind = 'revoked'"),
                            {"v": v["id"]}).scalar()
        audited = c.execute(sa.text("SELECT count(*) FROM audit_events WHERE action = 'voucher.reissue' "
                                    "AND object_id = :v"), {"v": v["id"]}).scalar()
        assert (revoked, audited) == (1, 1)


def paid_order(live, nickname: str, quantity: int) -> int:
    """A shopper orders `quantity` of one SKU for pickup through the shop and pays in the sandbox."""
    from tests.support.live import first_pickup_time

    slug, store_id = live.demo["merchant"]["slug"], live.demo["stores"][0]["id"]
    s = shop_session()
    s.post(f"{live.base}/m/{slug}/signin/demo", data={"nickname": nickname}, timeout=30)
    with live.engine.connect() as c:
        sku_id = c.execute(sa.text("SELECT sku_id FROM store_stock WHERE store_id = :s AND quantity >= 10 "
                                   "ORDER BY sku_id LIMIT 1"), {"s": store_id}).scalar()
    s.post(f"{live.base}/m/{slug}/cart/add", data={"store_id": store_id, "sku_id": sku_id, "quantity": quantity},
           timeout=30)
    checkout = s.get(f"{live.base}/m/{slug}/checkout", timeout=30).text
    nonce = re.search(r'name="nonce" value="([^"]+)"', checkout).group(1)
    r = s.post(f"{live.base}/m/{slug}/checkout", allow_redirects=False, timeout=30,
               data={"nonce": nonce, "fulfilment": "pickup", "pickup_at": first_pickup_time(checkout), "pay": "online"})
    assert r.status_code in (302, 303), r.text[:300]
    order_id = int(re.search(r"/orders/(\d+)", r.headers["Location"]).group(1))
    pay = s.get(f"{live.base}/orders/{order_id}/pay", allow_redirects=False, timeout=30).headers["Location"]
    assert s.post(f"{live.base}{pay}" if pay.startswith("/") else pay, data={"result": "success"},
                  allow_redirects=False, timeout=30).status_code == 302
    return order_id


def test_parallel_refunds_of_one_line_never_refund_more_than_it_holds(live):
    """Ten operators refund one unit of a 2-unit line at once: each refund that wins takes one unit and its
    share, the others are refused with a sentence; money, units and vouchers agree whatever the timing."""
    order_id = paid_order(live, "并发退款", 2)
    with live.engine.connect() as c:
        line_id, total = c.execute(sa.text("SELECT l.id, o.total_fen FROM order_lines l JOIN orders o "
                                           "ON o.id = l.order_id WHERE o.id = :o"), {"o": order_id}).one()
    cookies, token = console_session(live.base, "owner")

    def refund(i):
        r = requests.post(f"{live.base}/console/orders/{order_id}/refund", cookies=cookies, allow_redirects=False,
                          data={"csrf_token": token, "reason": f"并发 {i}", f"qty_{line_id}": 1}, timeout=30)
        return r.status_code, r.text

    results = in_parallel(10, refund)
    wins = sum(1 for s, _ in results if s == 302)
    assert 1 <= wins <= 2, sorted(s for s, _ in results)
    assert all(s in (400, 409) and 'data-testid="error"' in body for s, body in results if s != 302)
    with live.engine.connect() as c:
        refunded_qty, = c.execute(sa.text("SELECT refunded_quantity FROM order_lines WHERE id = :l"),
                                  {"l": line_id}).one()
        refunded_fen, status = c.execute(sa.text("SELECT refunded_fen, status FROM orders WHERE id = :o"),
                                         {"o": order_id}).one()
        refunds = c.execute(sa.text("SELECT count(*), coalesce(sum(amount_fen), 0) FROM refunds WHERE order_id = :o"),
                            {"o": order_id}).one()
        live_vouchers = c.execute(sa.text(
            "SELECT count(*) FROM vouchers v JOIN order_vouchers ov ON ov.voucher_id = v.id "
            "WHERE ov.order_id = :o AND v.status = 'issued'"), {"o": order_id}).scalar()
        audited = c.execute(sa.text("SELECT count(*) FROM audit_events WHERE action = 'order.refund' "
                                    "AND object_id = :o"), {"o": order_id}).scalar()
    assert refunded_qty == wins and tuple(refunds) == (wins, refunded_fen) and audited == wins
    assert refunded_fen == (total if wins == 2 else total // 2)
    assert (status, live_vouchers) == (("refunded", 0) if wins == 2 else ("ready", 1))


def test_parallel_retries_of_one_refused_refund_send_it_again_once(live):
    """Ten operators press 重试退款 on one refund the provider refused: one new refund under a new number, the
    others refused with a sentence (the unique retry_of_id decides between workers; no 500)."""
    order_id = paid_order(live, "并发重试退款", 1)
    cookies, token = console_session(live.base, "owner")
    r = requests.post(f"{live.base}/console/orders/{order_id}/refund", cookies=cookies, allow_redirects=False,
                      data={"csrf_token": token, "reason": "顾客要求", "whole": "1"}, timeout=30)
    assert r.status_code == 302, r.text[:300]
    with live.engine.begin() as c:  # as WeChat answers CLOSED: refused for good, no money moved
        refund_id = c.execute(sa.text("UPDATE refunds SET status = 'failed', last_error = 'CLOSED' "
                                      "WHERE order_id = :o RETURNING id"), {"o": order_id}).scalar_one()

    def retry(i):
        r = requests.post(f"{live.base}/console/orders/refunds/{refund_id}/retry", cookies=cookies,
                          allow_redirects=False, data={"csrf_token": token}, timeout=30)
        return r.status_code, r.text

    results = in_parallel(10, retry)
    statuses = sorted(s for s, _ in results)
    assert statuses == [302] + [400] * 9, statuses
    errors = [re.search(r'data-testid="error">([^<]*)<', body).group(1) for s, body in results if s == 400]
    assert all("已重新发起过" in e for e in errors), errors
    with live.engine.connect() as c:
        again = c.execute(sa.text("SELECT count(*) FROM refunds WHERE retry_of_id = :r"), {"r": refund_id}).scalar()
    assert again == 1
