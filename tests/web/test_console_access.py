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
from tests.coupons.helpers import make_campaign
from app.coupons.claim import claim
from tests.support.factories import make_member, make_staff
from tests.web.console_support import CSRF, console_client

SIGNED_IN = ("owner", "operator", "manager")
BROWSE = {"owner", "operator", "manager"}
STAFF = {"owner", "manager"}
OWNER = {"owner"}
CAMPAIGN_EDIT = {"owner", "operator"}

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
    "console.campaigns": BROWSE,
    "console.campaigns_csv": BROWSE,
    "console.campaign": BROWSE,
    "console.campaign_new": CAMPAIGN_EDIT,
    "console.campaign_edit": CAMPAIGN_EDIT,
    "console.campaign_pause": CAMPAIGN_EDIT,
    "console.campaign_resume": CAMPAIGN_EDIT,
    "console.campaign_end": CAMPAIGN_EDIT,
    "console.campaign_issue": CAMPAIGN_EDIT,
    "console.campaign_issue_csv": CAMPAIGN_EDIT,
    "console.campaign_issue_csv_confirm": CAMPAIGN_EDIT,
    "console.campaign_coupon_revoke": CAMPAIGN_EDIT,
    "console.campaign_poster_png": BROWSE,
    "console.campaign_preview": CAMPAIGN_EDIT,
    "console.campaign_poster_svg": BROWSE,
}


def test_every_console_route_has_a_rule(app):
    routes = {r.endpoint for r in app.url_map.iter_rules() if r.rule.startswith("/console")}
    assert routes - RULES.keys() == set(), "console routes without a rule in this test"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


@pytest.fixture
def people(app, world):
    operator = make_staff(world.merchant, "operator", Role.OPERATOR, name="赵运营")
    other_owner = make_staff(world.other_merchant, "other_boss", Role.OWNER, name="钱别家")
    other_cashier = make_staff(world.other_merchant, "other_cash", Role.CASHIER, world.other_store, name="孙别家")
    own_campaign = make_campaign(world.merchant, name="本店券")  # every store: a manager sees it
    sibling_campaign = make_campaign(world.merchant, name="三里屯专享", store_ids=[world.store_b.id])
    foreign_campaign = make_campaign(world.other_merchant, name="别家的券")
    own_coupon = claim(own_campaign, make_member(world.merchant, "领券人").id)
    sibling_coupon = claim(sibling_campaign, make_member(world.merchant, "三里屯领券人").id)
    foreign_coupon = claim(foreign_campaign, make_member(world.other_merchant, "别家领券人").id)
    db.session.commit()
    keys = {k.merchant_id: k for k in db.session.execute(sa.select(ApiKey).order_by(ApiKey.id)).scalars()}
    own_key = db.session.execute(sa.select(ApiKey).where(ApiKey.merchant_id == world.merchant.id)
                                 .order_by(ApiKey.id.desc())).scalars().first()
    return {
        "staff": {"owner": world.owner, "operator": operator, "manager": world.manager, "cashier": world.cashier},
        "own": {"store_id": world.store.id, "staff_id": world.cashier.id, "key_id": own_key.id,
                "campaign_id": own_campaign.id, "coupon_id": own_coupon.id},
        # another store of the same merchant: only a manager (bound to world.store) must not reach it
        "sibling": {"store_id": world.store_b.id, "staff_id": world.cashier_b.id, "key_id": own_key.id,
                    "campaign_id": sibling_campaign.id, "coupon_id": sibling_coupon.id},
        "foreign": {"store_id": world.other_store.id, "staff_id": other_cashier.id,
                    "key_id": keys[world.other_merchant.id].id, "campaign_id": foreign_campaign.id,
                    "coupon_id": foreign_coupon.id},
        "foreign_words": [world.other_merchant.name, world.other_store.name, world.other_store.address,
                          other_owner.name, other_owner.username, other_cashier.name, other_cashier.username,
                          keys[world.other_merchant.id].prefix, foreign_campaign.name],
        "other_owner": other_owner,
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
                    _assert_clean(r.get_data().decode("utf-8", "replace"), people["foreign_words"], where)  # PNGs too
                else:
                    assert r.status_code not in (401, 403, 404) and r.status_code < 500, where


def test_a_cashier_is_told_the_counter_is_theirs(app, world, people):
    r = console_client(app, world.cashier).get("/console/")
    assert r.status_code == 403
    assert "/counter/" in r.get_data(as_text=True)


def test_the_other_merchants_owner_sees_only_their_own(app, world, people):
    client = console_client(app, people["other_owner"])
    for url in ("/console/", "/console/stores", "/console/stores.csv", "/console/staff", "/console/staff.csv",
                "/console/keys", "/console/audit", "/console/audit.csv"):
        r = client.get(url)
        assert r.status_code == 200, url
        body = r.get_data(as_text=True)
        for word in (world.merchant.name, world.store.name, world.store_b.name, world.owner.name, world.cashier.name):
            assert word not in body, (url, word)
    for url in (f"/console/stores/{world.store.id}", f"/console/staff/{world.cashier.id}"):
        assert client.get(url).status_code == 404, url
