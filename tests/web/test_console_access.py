"""Every console route × every role × a second merchant, with real ids.

Allowed: 200 (a GET) or an answer that is not a refusal (a POST with an empty form); a role the permission
table does not allow: 403; anonymous: the sign-in page (GET) or 401 (POST); another merchant's ids (and, for
a store manager, another store's): 404. No page or CSV of merchant A names anything of merchant B. The
routes come from the app's URL map: a /console route without a rule here fails."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.catalog.models import Category, ImportUpload, ProductPhoto
from app.coupons.claim import claim
from app.extensions import db
from app.merchants.models import ApiKey, Role
from app.orders import service as orders
from app.payments.models import PayMethod
from app.vouchers import codes
from app.vouchers.models import Voucher
from tests.coupons.helpers import make_campaign
from tests.support.factories import make_member, make_product, make_staff
from tests.web.console_support import CSRF, console_client

SIGNED_IN = ("owner", "operator", "manager")
BROWSE = {"owner", "operator", "manager"}
STAFF = {"owner", "manager"}
OWNER = {"owner"}
CATALOG = {"owner", "operator"}
CAMPAIGN_EDIT = {"owner", "operator"}
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
    "console.order_refund_retry": BROWSE,
    "console.vouchers": BROWSE,
    "console.vouchers_csv": BROWSE,
    "console.voucher": BROWSE,
    "console.voucher_revoke": BROWSE,
    "console.voucher_reissue": BROWSE,
    "console.voucher_undo": BROWSE,
    "console.products": BROWSE,
    "console.products_csv": BROWSE,
    "console.product": BROWSE,
    "console.product_new": CATALOG,
    "console.product_save": CATALOG,
    "console.product_publish": CATALOG,
    "console.product_unpublish": CATALOG,
    "console.product_cover": CATALOG,
    "console.product_photo_add": CATALOG,
    "console.product_photo_delete": CATALOG,
    "console.product_photo_to_cover": CATALOG,
    "console.sku_create": CATALOG,
    "console.sku_save": CATALOG,
    "console.sku_activate": CATALOG,
    "console.sku_deactivate": CATALOG,
    "console.categories": BROWSE,
    "console.category_create": CATALOG,
    "console.category_save": CATALOG,
    "console.category_order": CATALOG,
    "console.stock": BROWSE,
    "console.stock_csv": BROWSE,
    "console.stock_set": BROWSE,
    "console.stock_import": BROWSE,
    "console.stock_import_preview": BROWSE,
    "console.stock_import_apply": BROWSE,
    "console.products_skus_csv": BROWSE,
    "console.products_import": CATALOG,
    "console.products_import_preview": CATALOG,
    "console.products_import_apply": CATALOG,
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
    "console.groupbuys": BROWSE,
    "console.groupbuy": BROWSE,
    "console.groupbuy_new": EDITORS,
    "console.groupbuy_edit": EDITORS,
    "console.groupbuy_refunds": BROWSE,
    "console.groupbuy_refund_retry": EDITORS,
    "console.groupbuy_team_end_time": EDITORS,
    "console.presales": BROWSE,
    "console.presale": BROWSE,
    "console.presale_new": CAMPAIGN_EDIT,
    "console.presale_edit": CAMPAIGN_EDIT,
    "console.presale_demo": CAMPAIGN_EDIT,
}
# ids of rows a store manager sees for the whole merchant (no "another store" check for them) ...
MERCHANT_WIDE_IDS = ("key_id", "product_id", "category_id", "sku_id", "photo_id")
# ... unless the route also names one of these (a SKU's stock at a store; an upload of another store's staff)
STORE_BOUND_IDS = ("store_id", "staff_id", "upload_id")


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
    return {"groupbuy_id": campaign.id, "team_id": team.id, "refund_id": refund.id}


def _presale_at(merchant, store, nickname):
    """A pre-sale picked up at `store`, with a deposit order of `nickname` there: its id."""
    from app.core.clock import now_utc
    from app.presales import service as presales
    from tests.presales.conftest import make_campaign

    product = make_product(merchant, f"{store.name}预售", (("只", 30000, None),), stock={store: 0})
    campaign = make_campaign(merchant, product.skus[0], store)
    presales.place_deposit(merchant, make_member(merchant, nickname), campaign.id, quantity=1,
                           pay_method=PayMethod.SANDBOX, now=now_utc())
    return {"presale_id": campaign.id, "step": "open-balance"}


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
    own_campaign = make_campaign(world.merchant, name="本店券")  # every store: a manager sees it
    sibling_campaign = make_campaign(world.merchant, name="三里屯专享", store_ids=[world.store_b.id])
    foreign_campaign = make_campaign(world.other_merchant, name="别家的券")
    own_coupon = claim(own_campaign, make_member(world.merchant, "领券人").id)
    sibling_coupon = claim(sibling_campaign, make_member(world.merchant, "三里屯领券人").id)
    foreign_coupon = claim(foreign_campaign, make_member(world.other_merchant, "别家领券人").id)
    db.session.commit()
    own_gb = _groupbuy_at(world.merchant, world.store, "本店团员")
    sibling_gb = _groupbuy_at(world.merchant, world.store_b, "隔壁团员")
    foreign_gb = _groupbuy_at(world.other_merchant, world.other_store, "别家团员")
    keys = {k.merchant_id: k for k in db.session.execute(sa.select(ApiKey).order_by(ApiKey.id)).scalars()}
    own_key = db.session.execute(sa.select(ApiKey).where(ApiKey.merchant_id == world.merchant.id)
                                 .order_by(ApiKey.id.desc())).scalars().first()
    own_catalog = _catalog(world.merchant, "招牌拿铁", "本店分类", "OWN-SKU-1")
    foreign_catalog = _catalog(world.other_merchant, "别家法棍", "别家分类", "OTHER-SKU-1")
    csv_of = lambda sku_id, store: f"sku_id,store_id,quantity\n{sku_id},{store.id},3\n".encode()  # noqa: E731
    uploads = {who: ImportUpload(merchant_id=staff.merchant_id, staff_id=staff.id, kind="stock", sha256="0" * 64,
                                 content=csv_of(catalog["sku_id"], store))
               for who, staff, catalog, store in (("own", world.manager, own_catalog, world.store),
                                                  ("sibling", world.owner, own_catalog, world.store_b),
                                                  ("foreign", other_owner, foreign_catalog, world.other_store))}
    product_csv = "product,sku_code,sku,price\n招牌拿铁,OWN-SKU-1,中杯,30\n".encode()
    imports = {who: ImportUpload(merchant_id=staff.merchant_id, staff_id=staff.id, kind="products",
                                 sha256="0" * 64, content=product_csv)
               for who, staff in (("own", operator), ("foreign", other_owner))}
    db.session.add_all([*uploads.values(), *imports.values()])
    db.session.commit()
    own_ps = _presale_at(world.merchant, world.store, "本店预订")
    sibling_ps = _presale_at(world.merchant, world.store_b, "隔壁预订")
    foreign_ps = _presale_at(world.other_merchant, world.other_store, "别家预订")
    db.session.commit()
    return {
        "staff": {"owner": world.owner, "operator": operator, "manager": world.manager, "cashier": world.cashier},
        "own": {"store_id": world.store.id, "staff_id": world.cashier.id, "key_id": own_key.id,
                "order_id": own_order.id, "voucher_id": own_order.voucher_id, **own_catalog,
                "upload_id": uploads["own"].id, "import_id": imports["own"].id,
                "campaign_id": own_campaign.id, "coupon_id": own_coupon.id, **own_gb, **own_ps},
        # another store of the same merchant: only a manager (bound to world.store) must not reach it
        "sibling": {"store_id": world.store_b.id, "staff_id": world.cashier_b.id, "key_id": own_key.id,
                    "order_id": sibling_order.id, "voucher_id": sibling_order.voucher_id, **own_catalog,
                    "upload_id": uploads["sibling"].id, "import_id": imports["own"].id,
                    "campaign_id": sibling_campaign.id, "coupon_id": sibling_coupon.id, **sibling_gb, **sibling_ps},
        "foreign": {"store_id": world.other_store.id, "staff_id": other_cashier.id,
                    "key_id": keys[world.other_merchant.id].id,
                    "order_id": foreign_order.id, "voucher_id": foreign_order.voucher_id, **foreign_catalog,
                    "upload_id": uploads["foreign"].id, "import_id": imports["foreign"].id,
                    "campaign_id": foreign_campaign.id, "coupon_id": foreign_coupon.id, **foreign_gb, **foreign_ps},
        "foreign_words": [world.other_merchant.name, world.other_store.name, world.other_store.address,
                          other_owner.name, other_owner.username, other_cashier.name, other_cashier.username,
                          keys[world.other_merchant.id].prefix, foreign_order.number, "别家顾客", foreign_code,
                          foreign_code.replace("-", ""), "别家法棍", "别家分类", "OTHER-SKU-1", foreign_campaign.name,
                          "别家团员", f"{world.other_store.name}拼团", "别家预订", f"{world.other_store.name}预售"],
        "other_owner": other_owner,
        "own_words": [own_order.number, sibling_order.number,
                      codes.pretty(db.session.get(Voucher, own_order.voucher_id).code)],
    }


def _catalog(merchant, product_name: str, category_name: str, sku_code: str) -> dict:
    """A category, a product in it with a SKU and a gallery photo: their ids."""
    category = Category(merchant_id=merchant.id, name=category_name)
    db.session.add(category)
    db.session.flush()
    product = make_product(merchant, product_name)
    product.category_id = category.id
    product.skus[0].code = sku_code
    product.photos.append(ProductPhoto(position=1, image="img/products/latte.png"))
    db.session.flush()
    return {"category_id": category.id, "product_id": product.id, "sku_id": product.skus[0].id,
            "photo_id": product.photos[0].id}


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
                    if who == "manager" and (any(kind in rule.rule for kind in STORE_BOUND_IDS)
                                             or not any(kind in rule.rule for kind in MERCHANT_WIDE_IDS)):
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
                "/console/keys", "/console/audit", "/console/audit.csv", "/console/orders", "/console/orders.csv",
                "/console/vouchers", "/console/vouchers.csv", "/console/orders?q=本店", "/console/vouchers?q=本店",
                "/console/products", "/console/products.csv", "/console/categories", "/console/stock",
                "/console/stock.csv", "/console/products/skus.csv"):
        r = client.get(url)
        assert r.status_code == 200, url
        body = r.get_data(as_text=True)
        for word in (world.merchant.name, world.store.name, world.store_b.name, world.owner.name, world.cashier.name,
                     "本店顾客", "隔壁顾客", *people["own_words"], "招牌拿铁", "本店分类", "OWN-SKU-1"):
            assert word not in body, (url, word)
    assert "别家顾客" in client.get("/console/orders.csv").get_data(as_text=True)  # their own order is listed
    own = people["own"]
    for url in (f"/console/stores/{world.store.id}", f"/console/staff/{world.cashier.id}",
                f"/console/orders/{own['order_id']}", f"/console/vouchers/{own['voucher_id']}"):
        assert client.get(url).status_code == 404, url
