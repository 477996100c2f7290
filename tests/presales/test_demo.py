"""The demo's pre-sale, as a newcomer runs it after `make run`: pay the deposit on the shop, open the balance
window from the console's demo button, pay the balance, and the counter hands the cake over today; the other
demo button closes the window and refunds an unpaid deposit."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app import demo
from app.core.database import commit
from app.extensions import db
from app.members.service import demo_member
from app.merchants.models import Staff
from app.orders.models import Order, OrderStatus
from app.payments.models import Refund
from app.presales.models import PresaleCampaign
from app.vouchers.models import Voucher
from tests.conftest import member_client
from tests.presales.test_pages import _pay_sandbox
from tests.vouchers.helpers import redeem
from tests.web.console_support import console_client, post


def _deposit(app, merchant_id, campaign_id, name):
    me = member_client(app, demo_member(merchant_id, name))
    commit()
    r = me.post(f"/m/{demo.SLUG}/presale/{campaign_id}", data={"quantity": "1", "agree": "1"})
    assert r.status_code == 303, r.get_data(as_text=True)[:300]
    order_id = int(re.search(r"/orders/(\d+)", r.headers["Location"]).group(1))
    _pay_sandbox(me, f"/orders/{order_id}/pay")
    return me, order_id


def test_the_demo_presale_from_deposit_through_balance_to_pickup_today(app, db):
    out = demo.load(app.config["SECRET_KEY"])
    commit()
    [p] = out["presales"]
    merchant_id = out["merchant"]["id"]
    home = app.test_client().get(p["url"]).get_data(as_text=True)
    assert "¥198.00" in home and "¥20.00" in home and "¥50.00" in home and "¥148.00" in home
    me, order_id = _deposit(app, merchant_id, p["id"], "新人")
    _, other_id = _deposit(app, merchant_id, p["id"], "旁观者")
    db.session.expire_all()
    assert db.session.get(Order, order_id).status is OrderStatus.DEPOSIT_PAID

    owner = console_client(app, db.session.execute(sa.select(Staff).where(
        Staff.merchant_id == merchant_id, Staff.username == "owner")).scalar_one())
    r = post(owner, f"/console/presales/{p['id']}/demo/open-balance")
    assert r.status_code == 303
    _pay_sandbox(me, f"/orders/{order_id}/balance")
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.status is OrderStatus.READY
    code = db.session.get(Voucher, order.voucher_id).code
    r = redeem(app.test_client(), out["stores"][0]["counter_key"], code)  # pickup today, at 人民广场店
    assert r.status_code == 200, r.json
    db.session.expire_all()
    assert db.session.get(Order, order_id).status is OrderStatus.PICKED_UP

    r = post(owner, f"/console/presales/{p['id']}/demo/close-balance")  # the other never pays the balance
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Order, other_id).status is OrderStatus.REFUNDED
    assert db.session.query(Refund).filter_by(order_id=other_id).one().amount_fen == 2000
    assert db.session.get(PresaleCampaign, p["id"]).stock_left == 49
