"""The console's vouchers: search by code as typed, phone or nickname; filters; CSV; revoke with a reason;
reissue; undo of the latest redemption; a store manager kept to the vouchers redeemable at their store."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import sqlalchemy as sa

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.merchants.models import AuditEvent
from app.orders.models import Order
from app.vouchers import codes
from app.vouchers.models import Voucher, VoucherStatus
from tests.support.factories import make_member, make_voucher
from tests.vouchers.helpers import bearer, redeem
from tests.web.console_support import console_client, post


def _rows(response) -> list[int]:
    assert response.status_code == 200
    return [int(x) for x in re.findall(r'data-testid="voucher-row" data-voucher-id="(\d+)"',
                                       response.get_data(as_text=True))]


def _made(world):
    member = make_member(world.merchant, "小红")
    member.phone = "13912345678"
    here = make_voucher(world.merchant, title="国贸店咖啡券", member_id=member.id, store_ids=[world.store.id])
    there = make_voucher(world.merchant, title="三里屯券", store_ids=[world.store_b.id])
    everywhere = make_voucher(world.merchant, title="全店通用券", uses=5)
    foreign = make_voucher(world.other_merchant, title="别家的券")
    commit()
    return here, there, everywhere, foreign


def test_search_by_code_as_typed_phone_or_nickname_and_filters(app, world):
    here, there, everywhere, foreign = _made(world)
    owner = console_client(app, world.owner)
    newest_first = [everywhere.id, there.id, here.id]
    assert _rows(owner.get("/console/vouchers")) == newest_first
    pretty = codes.pretty(here.code)
    for typed in (pretty, pretty.lower(), here.code, f" {pretty[:9]} ", pretty.replace("-", " ")):
        assert _rows(owner.get("/console/vouchers", query_string={"q": typed})) == [here.id], typed
    assert _rows(owner.get("/console/vouchers", query_string={"q": codes.pretty(foreign.code)})) == []
    assert _rows(owner.get("/console/vouchers?q=139-1234")) == [here.id]
    assert _rows(owner.get("/console/vouchers?q=小红")) == [here.id]
    assert _rows(owner.get(f"/console/vouchers?store={world.store_b.id}")) == [everywhere.id, there.id]
    assert _rows(owner.get("/console/vouchers?source=api")) == newest_first
    assert _rows(owner.get("/console/vouchers?source=order")) == []
    assert _rows(owner.get("/console/vouchers?sort=id&desc=0")) == newest_first[::-1]
    assert owner.get(f"/console/vouchers?store={world.other_store.id}").status_code == 404
    body = owner.get("/console/vouchers.csv?q=小红").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert body.startswith("\ufeff") and [(r["code"], r["member"], r["status"]) for r in rows] == [
        (pretty, "小红", "issued")]
    assert "别家的券" not in owner.get("/console/vouchers.csv").get_data(as_text=True)


def test_a_store_manager_sees_the_vouchers_redeemable_at_their_store(app, world):
    here, there, everywhere, _ = _made(world)
    manager = console_client(app, world.manager)  # 国贸店
    assert _rows(manager.get("/console/vouchers")) == [everywhere.id, here.id]
    assert manager.get(f"/console/vouchers/{there.id}").status_code == 404
    assert post(manager, f"/console/vouchers/{there.id}/revoke", reason="x").status_code == 404
    assert "三里屯券" not in manager.get("/console/vouchers.csv").get_data(as_text=True)


def test_revoke_with_a_reason(app, client, world):
    here, *_ = _made(world)
    owner = console_client(app, world.owner)
    r = post(owner, f"/console/vouchers/{here.id}/revoke", reason="")
    assert r.status_code == 400 and "请填写撤回原因" in r.get_data(as_text=True)
    r = post(owner, f"/console/vouchers/{here.id}/revoke", reason="顾客投诉重复发放")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Voucher, here.id).status is VoucherStatus.REVOKED
    page = owner.get(f"/console/vouchers/{here.id}").get_data(as_text=True)
    assert 'data-status="revoked"' in page and "顾客投诉重复发放" in page and 'data-kind="revoked"' in page
    entry = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "voucher.revoke")).scalar_one()
    assert entry.object_id == here.id and entry.after == {"status": "revoked", "reason": "顾客投诉重复发放"}
    r = redeem(client, world.counter_key, here.code)
    assert r.status_code == 409 and r.json["error"]["code"] == "revoked"
    r = post(owner, f"/console/vouchers/{here.id}/revoke", reason="再撤一次")
    assert r.status_code == 302  # already revoked: nothing more happens, nothing more is recorded
    assert db.session.execute(sa.select(sa.func.count()).where(AuditEvent.action == "voucher.revoke")).scalar() == 1
    r = post(owner, f"/console/vouchers/{here.id}/reissue", reason="撤错了")
    assert r.status_code == 302


def test_reissue_an_orders_lost_voucher_from_the_console(app, client, world):
    from tests.web.test_console_access import _order_at

    order = _order_at(world.merchant, world.store, "小刚")
    commit()
    old_id = order.voucher_id
    manager = console_client(app, world.manager)
    r = post(manager, f"/console/vouchers/{old_id}/reissue", reason="顾客手机丢了")
    assert r.status_code == 302
    new_id = int(re.search(r"/console/vouchers/(\d+)\?done=reissue", r.location).group(1))
    assert new_id != old_id
    db.session.expire_all()
    old, new = db.session.get(Voucher, old_id), db.session.get(Voucher, new_id)
    assert old.status is VoucherStatus.REVOKED and new.replaces_id == old_id
    assert db.session.get(Order, order.id).voucher_id == new_id
    page = manager.get(r.location).get_data(as_text=True)
    assert 'data-testid="done"' in page and 'data-testid="replaces"' in page and codes.pretty(old.code) in page
    assert f'/console/orders/{order.id}' in page
    assert 'data-testid="replaced-by"' in manager.get(f"/console/vouchers/{old_id}").get_data(as_text=True)
    english = manager.get(f"/console/vouchers/{old_id}?lang=en").get_data(as_text=True)
    assert "Reissued as" in english and "Revoked" in english and "已补发为" not in english
    assert "Order pickup" in manager.get("/console/vouchers?lang=en").get_data(as_text=True)
    entry = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "voucher.reissue")).scalar_one()
    assert entry.object_id == old_id and entry.after["replaced_by"] == new_id and entry.staff_id == world.manager.id
    r = post(manager, f"/console/vouchers/{old_id}/reissue", reason="again")
    assert r.status_code == 409 and codes.pretty(new.code) in r.get_data(as_text=True)
    assert redeem(client, world.counter_key, old.code).status_code == 409
    assert redeem(client, world.counter_key, new.code).status_code == 200
    order_page = console_client(app, world.owner).get(f"/console/orders/{order.id}").get_data(as_text=True)
    assert order_page.count('data-testid="order-voucher"') == 2 and 'data-status="picked_up"' in order_page


def test_undo_the_latest_redemption_from_the_console(app, client, world, frozen):
    here, there, everywhere, _ = _made(world)
    r = client.post("/api/v1/counter/redeem", json={"code": everywhere.code}, headers=bearer(world.counter_key_b))
    rid = r.json["redemption"]["id"]
    manager = console_client(app, world.manager)  # 国贸店: the redemption was made at 三里屯店
    page = manager.get(f"/console/vouchers/{everywhere.id}").get_data(as_text=True)
    assert f'data-redemption-id="{rid}"' in page and 'data-testid="undo"' not in page
    assert post(manager, f"/console/vouchers/{everywhere.id}/undo", redemption_id=rid, reason="x").status_code == 404
    operator_page = console_client(app, world.owner).get(f"/console/vouchers/{everywhere.id}").get_data(as_text=True)
    assert 'data-testid="undo"' in operator_page
    owner = console_client(app, world.owner)
    r = post(owner, f"/console/vouchers/{everywhere.id}/undo", redemption_id=rid, reason="")
    assert r.status_code == 400
    r = post(owner, f"/console/vouchers/{everywhere.id}/undo", redemption_id=rid, reason="收银员点错了")
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Voucher, everywhere.id).uses_left == 5
    assert db.session.execute(sa.select(AuditEvent.object_id).where(
        AuditEvent.action == "redemption.undo")).scalar_one() == rid
    page = owner.get(f"/console/vouchers/{everywhere.id}").get_data(as_text=True)
    assert "收银员点错了" in page and 'data-kind="undone"' in page
    # past the merchant's window it is refused with its sentence
    rid = client.post("/api/v1/counter/redeem", json={"code": everywhere.code},
                      headers=bearer(world.counter_key)).json["redemption"]["id"]
    clock.advance(timedelta(minutes=31))
    owner = console_client(app, world.owner)  # a new session: the console's idle timeout is 30 minutes too
    r = post(owner, f"/console/vouchers/{everywhere.id}/undo", redemption_id=rid, reason="太晚了")
    assert r.status_code == 409 and "30 分钟" in r.get_data(as_text=True)


def test_the_dashboards_redemptions_link_to_the_vouchers_redeemed_that_day_at_that_store(app, client, world, frozen):
    here, there, everywhere, _ = _made(world)
    for voucher, key in ((here, world.counter_key), (everywhere, world.counter_key_b)):
        assert redeem(client, key, voucher.code).status_code == 200
    owner = console_client(app, world.owner)
    page = owner.get("/console/").get_data(as_text=True)
    link = f"/console/vouchers?redeemed_on=2026-11-23&amp;redeemed_at_store={world.store_b.id}"
    assert link in page and 'href="/console/vouchers?redeemed_on=2026-11-23"' in page
    assert _rows(owner.get(link.replace("&amp;", "&"))) == [everywhere.id]
    assert _rows(owner.get("/console/vouchers?redeemed_on=2026-11-23")) == [everywhere.id, here.id]
    assert _rows(owner.get("/console/vouchers?redeemed_on=2026-11-24")) == []
    # a store manager's figure is their store's redemptions, and so is the list behind it
    assert _rows(console_client(app, world.manager).get("/console/vouchers?redeemed_on=2026-11-23")) == [here.id]
