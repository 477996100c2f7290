"""Group-buys against the fake WeChat (Pay v3 and the official account), frozen clock: a team that misses its
deadline refunds every member's own payment, each refund its own request number, one failing first and
going through on the sweep's retry, nothing refunded twice when the delayed task and the sweep both run;
members are told the result by template message."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.groupbuys import service as groupbuys
from app.groupbuys import tasks as groupbuy_tasks
from app.groupbuys.models import Team, TeamStatus
from app.members.service import member_for_wechat
from app.orders.models import Order, OrderStatus
from app.payments import tasks as payment_tasks
from app.payments.models import Payment, PayMethod, Refund, RefundStatus
from app.web.payments import checkout_for
from tests.groupbuys.conftest import make_campaign
from tests.payments.conftest import fake, notify, wechat  # noqa: F401  (fixtures)
from tests.support.factories import make_product

TEMPLATE = "TPL-groupbuy-result"


@pytest.fixture
def setup(app, world, wechat):  # noqa: F811
    app.config.update(WECHAT_SECRET=wechat.secret, WECHAT_API_BASE=wechat.url, WECHAT_TEMPLATE_GROUPBUY=TEMPLATE)
    latte = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 20})
    campaign = make_campaign(world.merchant, latte.skus[0], [world.store], size=3)
    people = [member_for_wechat(world.merchant.id, openid=f"o-gb-{i}", nickname=f"微信{i}") for i in range(3)]
    commit()
    return campaign, people


def _paid_by_wechat(app, client, wechat, order, member):  # noqa: F811
    with app.test_request_context():
        payment, _ = checkout_for(db.session.get(Order, order.id), member)
    commit()
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    db.session.expire_all()
    return payment


def _team_of_two_paid_and_one_waiting(app, client, wechat, world, setup):  # noqa: F811
    campaign, people = setup
    team, lead = groupbuys.open_team(campaign, people[0], world.store.id, pay_method=PayMethod.WECHAT)
    commit()
    pays = [_paid_by_wechat(app, client, wechat, lead, people[0])]
    team = db.session.get(Team, team.id)
    o1 = groupbuys.join(team, people[1], pay_method=PayMethod.WECHAT)
    commit()
    pays.append(_paid_by_wechat(app, client, wechat, o1, people[1]))
    o2 = groupbuys.join(db.session.get(Team, team.id), people[2], pay_method=PayMethod.WECHAT)
    commit()
    return team, [lead, o1, o2], pays


def test_a_failed_team_refunds_each_members_own_payment_once_even_when_one_refund_fails_first(
        frozen, app, client, world, wechat, setup):  # noqa: F811
    team, (lead, o1, o2), pays = _team_of_two_paid_and_one_waiting(app, client, wechat, world, setup)
    assert db.session.get(Team, team.id).status is TeamStatus.FORMING
    wechat.fault("refund", "500")  # the first refund request fails

    clock.advance(timedelta(hours=24))
    assert groupbuy_tasks.fail_if_due(team.id) is True  # the delayed task; refunds are sent after its commit
    assert groupbuy_tasks.fail_due() == 0  # the minute's sweep finds nothing left to do
    assert groupbuy_tasks.fail_if_due(team.id) is False  # and a repeated message changes nothing
    db.session.expire_all()
    assert db.session.get(Team, team.id).status is TeamStatus.FAILED
    refunds = db.session.query(Refund).order_by(Refund.id).all()
    assert [(r.order_id, r.payment_id, r.amount_fen) for r in refunds] == \
        [(lead.id, pays[0].id, 2000), (o1.id, pays[1].id, 2000)]  # each member's own order and payment
    assert len({r.out_refund_no for r in refunds}) == 2
    assert [r.status for r in refunds] == [RefundStatus.PENDING, RefundStatus.PROCESSING]
    assert refunds[0].attempts == 1 and refunds[0].last_error
    assert db.session.get(Order, o2.id).status is OrderStatus.CANCELLED  # the unpaid seat: cancelled, not refunded

    clock.advance(timedelta(minutes=6))
    assert payment_tasks.retry_stuck_refunds() == 1  # the retry goes through, with the same number
    clock.advance(timedelta(minutes=6))
    assert payment_tasks.retry_stuck_refunds() == 0
    db.session.expire_all()
    assert wechat.refunds_created == {r.out_refund_no: 1 for r in refunds}  # the money moved once each
    assert wechat.refund_requests.count(refunds[0].out_refund_no) == 2
    for r in refunds:
        headers, body = wechat.refund_notification(r.out_refund_no, "SUCCESS")
        assert notify(client, headers, body, kind="refund").status_code == 204
    db.session.expire_all()
    assert {db.session.get(Refund, r.id).status for r in refunds} == {RefundStatus.SUCCEEDED}
    assert {db.session.get(Order, o.id).status for o in (lead, o1)} == {OrderStatus.REFUNDED}

    told = {(m["touser"], m["data"]["keyword3"]["value"], m["url"]) for m in wechat.template_messages}
    assert told == {("o-gb-0", "拼团失败", f"https://shop.test/orders/{lead.id}"),
                    ("o-gb-1", "拼团失败", f"https://shop.test/orders/{o1.id}")}
    assert {m["template_id"] for m in wechat.template_messages} == {TEMPLATE}


def test_a_complete_team_tells_every_member_by_template_message(frozen, app, client, world, wechat, setup):  # noqa: F811
    team, (lead, o1, o2), _ = _team_of_two_paid_and_one_waiting(app, client, wechat, world, setup)
    campaign, people = setup
    wechat.unsubscribed.add("o-gb-1")  # one member does not follow the account: the others are still told
    _paid_by_wechat(app, client, wechat, o2, people[2])
    assert db.session.get(Team, team.id).status is TeamStatus.COMPLETE
    assert {db.session.get(Order, o.id).status for o in (lead, o1, o2)} == {OrderStatus.READY}
    told = sorted((m["touser"], m["data"]["keyword3"]["value"]) for m in wechat.template_messages)
    assert told == [("o-gb-0", "拼团成功"), ("o-gb-2", "拼团成功")]
    assert db.session.query(Payment).count() == 3


def test_the_share_page_carries_a_signed_js_sdk_config_where_wechat_is_configured(
        frozen, app, client, world, wechat, setup):  # noqa: F811
    import hashlib
    import html
    import json
    import re

    campaign, people = setup
    team, lead = groupbuys.open_team(campaign, people[0], world.store.id, pay_method=PayMethod.WECHAT)
    commit()
    _paid_by_wechat(app, client, wechat, lead, people[0])
    url = f"https://shop.test/m/{world.merchant.slug}/t/{team.id}"
    page = client.get(url).get_data(as_text=True)
    cfg = json.loads(html.unescape(re.search(r"data-wx-config='([^']+)'", page).group(1)))
    assert cfg["appId"] == wechat.appid
    signed = f"jsapi_ticket={wechat.jsapi_ticket}&noncestr={cfg['nonceStr']}&timestamp={cfg['timestamp']}&url={url}"
    assert cfg["signature"] == hashlib.sha1(signed.encode()).hexdigest()
    assert "jweixin" in page and url in page  # the share card, and the link itself
