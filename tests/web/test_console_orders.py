"""The console's orders: search and filters (by Shanghai day), sort, CSV, the detail page, a refund of one
line from the console that the consumer's order page then shows, refusals, the audit log, and a store
manager kept to their own store."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.core import clock
from app.extensions import db as _db
from app.members.models import Member
from app.merchants.models import AuditEvent, Role
from app.orders.models import Order, OrderStatus
from app.payments.models import Refund
from app.vouchers import codes
from app.vouchers.models import Voucher
from tests.support.factories import make_staff
from tests.web.console_support import console_client, post
from tests.web.test_orders_pages import add, me, paid_order, place, redeem_at_counter, shop, stock, text  # noqa: F401


def _rows(page: str) -> list[int]:
    import re
    return [int(x) for x in re.findall(r'data-testid="order-row" data-order-id="(\d+)"', page)]


def _csv(response) -> list[dict]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_refund_one_line_from_the_console_shows_on_the_consumers_order_page(app, me, shop, world):
    add(me, shop, shop.plain, 2)
    order = paid_order(me, shop, shop.medium, 2)  # 2 × 拿铁 at the member price 25.00, 2 × 贝果 15.00
    lines = {l.sku_id: l for l in order.lines}
    operator = make_staff(world.merchant, "op", Role.OPERATOR, name="赵运营")
    _db.session.commit()
    console = console_client(app, operator)
    page = text(console.get(f"/console/orders/{order.id}"))
    assert order.number in page and 'data-testid="refund-lines-form"' in page
    assert "会员优惠" in page and "¥28.00" in page and "¥50.00" in page  # list price, discount, payable
    english = text(console.get(f"/console/orders/{order.id}?lang=en"))
    assert "Refund the whole order" in english and "Refund by item" in english and "整单退款" not in english

    r = post(console, f"/console/orders/{order.id}/refund", reason="顾客改主意",
             **{f"qty_{lines[shop.plain.id].id}": 1, f"qty_{lines[shop.medium.id].id}": 0})
    assert r.status_code == 302 and r.location.endswith(f"/console/orders/{order.id}?done=refund")
    _db.session.expire_all()
    order = _db.session.get(Order, order.id)
    assert order.status is OrderStatus.READY and order.refunded_fen == 1500
    assert stock(shop.store, shop.plain) == 4
    refund = _db.session.execute(sa.select(Refund).where(Refund.order_id == order.id)).scalar_one()
    assert refund.amount_fen == 1500 and refund.reason == "顾客改主意"
    entry = _db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "order.refund")).scalar_one()
    assert entry.staff_id == operator.id and entry.object_id == order.id
    assert entry.after["refunded_fen"] == 1500 and entry.after["lines"] == {str(lines[shop.plain.id].id): 1}

    page = text(console.get(f"/console/orders/{order.id}?done=refund"))
    assert 'data-testid="done"' in page and 'data-testid="refund-row" data-status="succeeded"' in page
    assert 'data-testid="order-refunded">¥15.00' in page
    assert page.count('data-testid="order-voucher"') == 2  # the voided voucher and the one for what is left

    consumer = text(me.get(f"/orders/{order.id}"))
    assert "已退 1 件" in consumer and 'data-testid="order-status">待取货' in consumer
    assert 'data-testid="refund-status" data-status="succeeded"' in consumer and "¥15.00" in consumer
    assert codes.pretty(_db.session.get(Voucher, order.voucher_id).code) in consumer


def test_a_refund_needs_a_reason_and_is_refused_with_a_sentence_when_not_allowed(app, me, shop, world):
    order = paid_order(me, shop)
    console = console_client(app, world.owner)
    r = post(console, f"/console/orders/{order.id}/refund", whole="1", reason="")
    assert r.status_code == 400 and "请填写退款原因" in text(r)
    r = post(console, f"/console/orders/{order.id}/refund", reason="顾客改主意")  # no line chosen
    assert r.status_code == 400 and "请选择要退款的商品" in text(r)
    assert _db.session.get(Order, order.id).refunded_fen == 0

    redeem_at_counter(app.test_client(), world, order)
    page = text(console.get(f"/console/orders/{order.id}"))
    assert 'data-testid="refund-forms"' not in page and 'data-testid="refund-unavailable"' in page
    r = post(console, f"/console/orders/{order.id}/refund", whole="1", reason="顾客改主意")
    assert r.status_code == 409 and "订单已取货，不能退款" in text(r)
    r = console.post(f"/console/orders/{order.id}/refund?lang=en", data={"csrf_token": "test-csrf-token",
                                                                         "whole": "1", "reason": "x"})
    assert "was picked up" in text(r)
    assert _db.session.execute(sa.select(sa.func.count()).select_from(Refund)).scalar() == 0
    assert _db.session.execute(sa.select(sa.func.count()).where(AuditEvent.action == "order.refund")).scalar() == 0


def test_a_whole_refund_from_the_console(app, me, shop, world):
    order = paid_order(me, shop)
    r = post(console_client(app, world.manager), f"/console/orders/{order.id}/refund", whole="1", reason="缺货")
    assert r.status_code == 302
    _db.session.expire_all()
    order = _db.session.get(Order, order.id)
    assert order.status is OrderStatus.REFUNDED and order.refunded_fen == 5000
    assert _db.session.get(Voucher, order.voucher_id).status.value == "void"


def test_search_filters_sort_and_csv(app, me, shop, world, frozen):
    member = _db.session.get(Member, shop.member.id)
    member.phone = "13800138000"
    _db.session.commit()
    first = paid_order(me, shop)                   # 2026-11-23 14:00 Shanghai, at 国贸店
    clock.advance(timedelta(hours=10))             # 2026-11-24 00:00 Shanghai: the next day
    add(me, shop, shop.medium, 1, store=shop.store_b)
    second = _db.session.get(Order, int(place(me, pay="store").location.rsplit("/", 1)[-1]))
    console = console_client(app, world.owner)

    def ids(query: str) -> list[int]:
        r = console.get(f"/console/orders?{query}")
        assert r.status_code == 200, query
        return _rows(text(r))

    assert ids("") == [second.id, first.id]  # newest first
    assert ids("sort=id&desc=0") == [first.id, second.id]
    assert ids(f"q={first.number}") == [first.id]
    assert ids("q=小明") == [second.id, first.id] and ids("q=小红") == []
    assert ids("q=138-0013") == [second.id, first.id]
    code = _db.session.get(Voucher, first.voucher_id).code
    assert ids(f"q={codes.pretty(code).lower()}") == [first.id] and ids(f"q={code}") == [first.id]
    assert ids(f"store={shop.store_b.id}") == [second.id]
    assert ids("pay=store") == [second.id] and ids("pay=sandbox") == [first.id]
    assert ids("status=ready") == [second.id, first.id] and ids("status=refunded") == []
    assert ids("from=2026-11-23&to=2026-11-23") == [first.id]
    assert ids("from=2026-11-24") == [second.id]
    assert ids("on=paid&from=2026-11-24&to=2026-11-24") == []  # the second is to pay at the store
    assert ids("on=paid&from=2026-11-23&to=2026-11-23") == [first.id]
    assert console.get("/console/orders?from=yesterday").status_code == 400

    rows = _csv(console.get("/console/orders.csv?pay=sandbox"))
    assert [(r["number"], r["total_yuan"], r["store"], r["member"]) for r in rows] == [
        (first.number, "50.00", shop.store.name, "小明")]
    assert rows[0]["paid_at"] == "2026-11-23 14:00:00"


def test_a_store_manager_sees_only_their_stores_orders(app, me, shop, world):
    here = paid_order(me, shop)
    add(me, shop, shop.medium, 1, store=shop.store_b)
    there = _db.session.get(Order, int(place(me, pay="store").location.rsplit("/", 1)[-1]))
    manager = console_client(app, world.manager)  # 李店长 of 国贸店
    assert _rows(text(manager.get("/console/orders"))) == [here.id]
    assert [r["number"] for r in _csv(manager.get("/console/orders.csv"))] == [here.number]
    assert manager.get(f"/console/orders/{there.id}").status_code == 404
    assert post(manager, f"/console/orders/{there.id}/refund", whole="1", reason="x").status_code == 404
    assert manager.get(f"/console/orders?store={shop.store_b.id}").status_code == 404
    assert _rows(text(console_client(app, world.owner).get("/console/orders"))) == [there.id, here.id]


def test_the_dashboard_numbers_link_to_the_orders_behind_them(app, me, shop, world, frozen):
    order = paid_order(me, shop)
    page = text(console_client(app, world.owner).get("/console/"))
    day = "2026-11-23"
    link = f'/console/orders?on=created&amp;from={day}&amp;to={day}'
    assert link in page
    assert f'/console/orders?on=created&amp;from={day}&amp;to={day}&amp;store={shop.store.id}' in page
    assert _rows(text(console_client(app, world.owner).get(link.replace("&amp;", "&")))) == [order.id]


def test_refunded_on_a_day_lists_orders_with_a_refund_that_succeeded_then(app, me, shop, world, frozen):
    kept, refunded = paid_order(me, shop, quantity=1), paid_order(me, shop, quantity=1)
    owner = console_client(app, world.owner)
    assert post(owner, f"/console/orders/{refunded.id}/refund", whole="1", reason="缺货").status_code == 302
    assert f'/console/orders?on=refunded&amp;from=2026-11-23&amp;to=2026-11-23' in text(owner.get("/console/"))
    assert _rows(text(owner.get("/console/orders?on=refunded&from=2026-11-23&to=2026-11-23"))) == [refunded.id]
    assert _rows(text(owner.get("/console/orders?on=refunded&from=2026-11-24"))) == []
    assert kept.id in _rows(text(owner.get("/console/orders?on=paid&from=2026-11-23&to=2026-11-23")))
