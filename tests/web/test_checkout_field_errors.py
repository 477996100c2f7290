"""A delivery checkout names every missing or wrong field at once (issue #9 point 11): the address, the
phone and the location, each beside its field, rather than one per round trip."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db as _db
from app.orders.models import Order
from tests.web.test_orders_pages import add, me, place, shop, text  # noqa: F401  (fixtures)

ADDRESS = "请填写配送地址。"
PHONE = "请填写正确的 11 位手机号，方便门店配送时联系你。"
LOCATION = "请允许获取位置，以确认在配送范围内。"


def delivering(shop, me):
    shop.store.delivery_radius_m = 3000
    _db.session.commit()
    add(me, shop, shop.medium, 1)


def field_errors(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="field-error" data-field="([a-z_]+)"[^>]*>([^<]+)<', page))


def test_every_delivery_problem_is_named_at_once_beside_its_field(me, shop):
    delivering(shop, me)
    r = place(me, fulfilment="delivery", delivery_address="  ", delivery_phone="123")
    assert r.status_code == 400
    page = text(r)
    assert field_errors(page) == {"delivery_address": ADDRESS, "delivery_phone": PHONE, "delivery_location": LOCATION}
    assert 'data-code="bad_request"' in page and "3" in re.search(r'data-testid="checkout-error"[^>]*>([^<]+)<', page).group(1)
    assert 'value="123"' in page  # what was typed stays in the form
    assert _db.session.execute(sa.select(sa.func.count(Order.id))).scalar() == 0


def test_json_callers_get_every_problem_in_the_errors_list(me, shop):
    delivering(shop, me)
    r = me.post("/m/test-coffee/checkout?lang=en", headers={"Accept": "application/json"},
                data={"fulfilment": "delivery", "pickup_at": "asap", "pay": "online", "delivery_address": ""})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "bad_request" and error["field"] == "delivery_address"
    assert [e["field"] for e in error["errors"]] == ["delivery_address", "delivery_phone", "delivery_location"]
    assert error["errors"][0]["message"] == "Enter a delivery address."


def test_a_missing_address_and_a_far_location_are_named_together(me, shop):
    delivering(shop, me)
    r = place(me, fulfilment="delivery", delivery_address="", delivery_phone="13800138000", lat="40.2", lng="116.9")
    assert r.status_code == 400
    errors = field_errors(text(r))
    assert set(errors) == {"delivery_address", "delivery_location"} and "超出配送范围" in errors["delivery_location"]
    # Only the range wrong: its own refusal, as before.
    r = place(me, fulfilment="delivery", delivery_address="远处", delivery_phone="13800138000", lat="40.2", lng="116.9")
    assert r.status_code == 409 and 'data-code="out_of_delivery_range"' in text(r)
