"""Every console route × every role × a second merchant, with real ids.

Allowed: 200 (a GET) or an answer that is not a refusal (a POST with an empty form); a role the permission
table does not allow: 403; anonymous: the sign-in page (GET) or 401 (POST); another merchant's ids (and, for
a store manager, another store's): 404. No page or CSV of merchant A names anything of merchant B. The
routes come from the app's URL map: a /console route without a rule here fails."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.merchants.models import ApiKey, Role
from app.orders import service as orders
from app.payments.models import PayMethod
from app.vouchers import codes
from app.vouchers.models import Voucher
from tests.support.factories import make_member, make_product, make_staff
from tests.web.console_support import CSRF, console_client

SIGNED_IN = ("owner", "operator", "manager")
BROWSE = {"owner", "operator", "manager"}
STAFF = {"owner", "manager"}
OWNER = {"owner"}
EDITORS = {"owner", "operator"}

# endpoint -> roles allowed (None: no sign-in needed)
RULES: dict[str, set[str] | None] = {
    "console.login": None,
    "console.logout": None,
    "console.home": BROWSE,
    "console.dashboard_csv": BROWSE,
    "console.stores": BROWSE,
    "console.stores_csv": BROWSE,
    "console.store": BROWSE,
    "console.store_new": OWNER,
    "console.store_edit": OWNER,
    "console.store_pause": STAFF,
    "console.store_resume": STAFF,
    "console.staff_list": STAFF,
    "console.staff_csv": STAFF,
    "console.staff_new": STAFF,
    "console.staff_detail": STAFF,
    "console.staff_password": STAFF,
    "console.staff_bind": STAFF,
    "console.staff_disable": STAFF,
    "console.staff_enable": STAFF,
    "console.keys": OWNER,
    "console.key_create": OWNER,
    "console.key_revoke": OWNER,
    "console.settings": OWNER,
    "console.settings_save": OWNER,
    "console.audit_log": OWNER,
    "console.audit_csv": OWNER,
    "console.orders": BROWSE,
    "console.orders_csv": BROWSE,
    "console.order": BROWSE,
    "console.order_refund": BROWSE,
    "console.vouchers": BROWSE,
    "console.vouchers_csv": BROWSE,
    "console.voucher": BROWSE,
    "console.voucher_revoke": BROWSE,
    "console.voucher_reissue": BROWSE,
    "console.voucher_undo": BROWSE,
    "console.groupbuys": BROWSE,
    "console.groupbuy": BROWSE,
    "console.groupbuy_new": EDITORS,
    "console.groupbuy_edit": EDITORS,
    "console.groupbuy_refunds": BROWSE,
    "console.groupbuy_refund_retry": EDITORS,
    "console.groupbuy_team_end_time": EDITORS,
}


def test_every_console_route_has_a_rule(app):
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/console")}
    assert routes - RULES.keys() == set(), "console routes without a rule in this test"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


def _groupbuy_at(merchant, store, nickname):
    """A group-buy campaign picked up at `store` only, a team there whose leader paid and left: a team, and a
    refund of a group-buy order, at that store."""
    from app.groupbuys import service as groupbuys
    from app.groupbuys.models import Team
    from app.payments.models import Refund
    from tests.groupbuys.conftest import make_campaign, pay

    product = make_product(merchant, f"{store.name}拼团", (("杯", 1800, None),), stock={store: 5})
    campaign = make_campaign(merchant, product.skus[0], [store])
    member = make_member(merchant, nickname)
    team, order = groupbuys.open_team(campaign, member, store.id, pay_method=PayMethod.SANDBOX)
    pay(order)
    groupbuys.leave(db.session.get(Team, team.id), member)
    db.session.commit()
    refund = db.session.execute(sa.select(Refund).where(Refund.order_id == order.id)).scalar_one()
    return {"campaign_id": campaign.id, "team_id": team.id, "refund_id": refund.id}


def _order_at(merchant, store, nickname):
    """A pay-at-store order at `store`: ready at once, with its pickup voucher (bound to that store)."""
    product = make_product(merchant, f"{store.name}特调", (("杯", 1800, None),), stock={store: 5})
    return orders.place_order(merchant, store, make_member(merchant, nickname),
                              [orders.LineRequest(product.skus[0].id, 1)], pay_method=PayMethod.STORE)


@pytest.fixture
def people(app, world):
    operator = make_staff(world.merchant, "operator", Role.OPERATOR, name="赵运营")
    own_order = _order_at(world.merchant, world.store, "本店顾客")
    sibling_order = _order_at(world.merchant, world.store_b, "隔壁顾客")
    foreign_order = _order_at(world.other_merchant, world.other_store, "别家顾客")
    foreign_code = codes.pretty(db.session.get(Voucher, foreign_order.voucher_id).code)
    other_owner = make_staff(world.other_merchant, "other_boss", Role.OWNER, name="钱别家")
    other_cashier = make_staff(world.other_merchant, "other_cash", Role.CASHIER, world.other_store, name="孙别家")
    db.session.commit()
    own_gb = _groupbuy_at(world.merchant, world.store, "本店团员")
    sibling_gb = _groupbuy_at(world.merchant, world.store_b, "隔壁团员")
    foreign_gb = _groupbuy_at(world.other_merchant, world.other_store, "别家团员")
    keys = {k.merchant_id: k for k in db.session.execute(sa.select(ApiKey).order_by(ApiKey.id)).scalars()}
    own_key = db.session.execute(sa.select(ApiKey).where(ApiKey.merchant_id == world.merchant.id)
                                 .order_by(ApiKey.id.desc())).scalars().first()
    return {
        "staff": {"owner": world.owner, "operator": operator, "manager": world.manager, "cashier": world.cashier},
        "own": {"store_id": world.store.id, "staff_id": world.cashier.id, "key_id": own_key.id,
                "order_id": own_order.id, "voucher_id": own_order.voucher_id, **own_gb},
        # another store of the same merchant: only a manager (bound to world.store) must not reach it
        "sibling": {"store_id": world.store_b.id, "staff_id": world.cashier_b.id, "key_id": own_key.id,
                    "order_id": sibling_order.id, "voucher_id": sibling_order.voucher_id, **sibling_gb},
        "foreign": {"store_id": world.other_store.id, "staff_id": other_cashier.id,
                    "key_id": keys[world.other_merchant.id].id,
                    "order_id": foreign_order.id, "voucher_id": foreign_order.voucher_id, **foreign_gb},
        "foreign_words": [world.other_merchant.name, world.other_store.name, world.other_store.address,
                          other_owner.name, other_owner.username, other_cashier.name, other_cashier.username,
                          keys[world.other_merchant.id].prefix, foreign_order.number, "别家顾客", foreign_code,
                          foreign_code.replace("-", ""), "别家团员", f"{world.other_store.name}拼团"],
        "other_owner": other_owner,
        "own_words": [own_order.number, sibling_order.number,
                      codes.pretty(db.session.get(Voucher, own_order.voucher_id).code)],
    }


def _url(rule, ids: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def _rules(app, endpoint):
    return [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]


def _methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _assert_clean(body: str, words, where):
    for word in words:
        assert word not in body, (where, word)


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_console_route_as_every_caller(app, world, people, endpoint):
    allowed = RULES[endpoint]
    for rule in _rules(app, endpoint):
        has_ids = "<" in rule.rule
        for method in _methods(rule):
            # Refusals first: a permitted POST may change who can still sign in (disable, reset password).
            anonymous = console_client(app)
            r = anonymous.open(_url(rule, people["own"]), method=method, data={"csrf_token": CSRF})
            if allowed is None:
                assert r.status_code in (200, 302, 401), (endpoint, method, r.status_code)  # 401: no password
                continue
            if method == "GET":
                assert r.status_code == 302 and "/console/login" in r.location, (endpoint, "anonymous")
            else:
                assert r.status_code == 401, (endpoint, "anonymous", r.status_code)

            order = ["cashier"] + [who for who in SIGNED_IN if who not in allowed] + \
                    [who for who in ("operator", "manager", "owner") if who in allowed]
            for who in order:
                client = console_client(app, people["staff"][who])
                if who in allowed and has_ids:
                    r = client.open(_url(rule, people["foreign"]), method=method, data={"csrf_token": CSRF})
                    assert r.status_code == 404, (endpoint, method, who, "foreign ids", r.status_code)
                    if who == "manager" and "key_id" not in rule.rule:
                        r = client.open(_url(rule, people["sibling"]), method=method, data={"csrf_token": CSRF})
                        assert r.status_code == 404, (endpoint, method, who, "another store", r.status_code)
                r = client.open(_url(rule, people["own"]), method=method, data={"csrf_token": CSRF})
                where = (endpoint, method, who, r.status_code)
                if who not in allowed:
                    assert r.status_code == 403, where
                elif method == "GET":
                    assert r.status_code == 200, where
                    _assert_clean(r.get_data(as_text=True), people["foreign_words"], where)
                else:
                    assert r.status_code not in (401, 403, 404) and r.status_code < 500, where


def test_a_cashier_is_told_the_counter_is_theirs(app, world, people):
    r = console_client(app, world.cashier).get("/console/")
    assert r.status_code == 403
    assert "/counter/" in r.get_data(as_text=True)


def test_the_other_merchants_owner_sees_only_their_own(app, world, people):
    client = console_client(app, people["other_owner"])
    for url in ("/console/", "/console/stores", "/console/stores.csv", "/console/staff", "/console/staff.csv",
                "/console/keys", "/console/audit", "/console/audit.csv", "/console/orders", "/console/orders.csv",
                "/console/vouchers", "/console/vouchers.csv", "/console/orders?q=本店", "/console/vouchers?q=本店"):
        r = client.get(url)
        assert r.status_code == 200, url
        body = r.get_data(as_text=True)
        for word in (world.merchant.name, world.store.name, world.store_b.name, world.owner.name, world.cashier.name,
                     "本店顾客", "隔壁顾客", *people["own_words"]):
            assert word not in body, (url, word)
    assert "别家顾客" in client.get("/console/orders.csv").get_data(as_text=True)  # their own order is listed
    own = people["own"]
    for url in (f"/console/stores/{world.store.id}", f"/console/staff/{world.cashier.id}",
                f"/console/orders/{own['order_id']}", f"/console/vouchers/{own['voucher_id']}"):
        assert client.get(url).status_code == 404, url
