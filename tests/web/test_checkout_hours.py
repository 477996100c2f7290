"""Opening hours through the shop (issue #8): a store open past midnight is open, offers slots and takes
orders at 01:00; 尽快 and delivery are refused as store_closed when the store closes before the order could
be ready, whichever way the order is placed (checkout form, JSON, the service; online or at the store);
checkout says when a closed store opens next."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from app.core import clock
from app.core.clock import SHANGHAI
from app.extensions import db as _db
from app.orders import service as orders
from app.orders.errors import StoreClosed
from app.orders.models import Order, OrderStatus, PayMethod
from tests.support.factories import set_hours
from tests.web.test_orders_pages import (  # noqa: F401  (fixtures)
    SLUG, add, me, order_id_of, pay_in_sandbox, place, shop, text,
)


@pytest.fixture
def at():
    """at(2026, 11, 23, 1, 0): freezes the clock at that Shanghai wall-clock time (for the rest of the test)."""
    def _at(*parts: int) -> datetime:
        moment = datetime(*parts, tzinfo=SHANGHAI)
        clock.freeze(moment)
        return moment

    yield _at
    clock.freeze(None)


def options(page: str) -> list[tuple[str, str]]:
    """The pickup-time choices on a checkout page: (value, label)."""
    select = re.search(r'<select[^>]*data-testid="pickup-at".*?</select>', page, re.S).group(0)
    return [(v, " ".join(label.split())) for v, label in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select)]


# ------------------------------------------------------------------------------------------- past midnight

def test_a_store_open_past_midnight_is_browsed_and_ordered_from_at_one_in_the_night(me, shop, at):
    set_hours(shop.store, "22:00", "02:00")
    _db.session.commit()
    at(2026, 11, 23, 1, 0)  # the night that began on the 22nd at 22:00

    store_page = text(me.get(f"/m/{SLUG}/s/{shop.store.id}"))
    assert "22:00–02:00" in store_page and 'class="st-open is-open">营业中' in store_page

    add(me, shop, shop.medium, 1)
    page = text(me.get(f"/m/{SLUG}/checkout"))
    choices = options(page)
    assert choices[0] == ("asap", "尽快（约 15 分钟）")
    assert ("2026-11-23T01:30:00+08:00", "今天 01:30") in choices  # this night, before 02:00
    assert "2026-11-23T02:00:00+08:00" not in page  # closing time
    assert ("2026-11-23T22:00:00+08:00", "今天 22:00") in choices  # tonight
    assert ("2026-11-24T00:30:00+08:00", "明天 00:30") in choices
    assert 'data-testid="store-closed"' not in page

    r = place(me, pickup_at="2026-11-23T01:30:00+08:00")  # a slot, paid online
    assert r.status_code == 302, text(r)
    order_id = order_id_of(r)
    pay_in_sandbox(me, order_id)
    order = _db.session.get(Order, order_id)
    assert order.status is OrderStatus.READY and order.pickup_at == datetime(2026, 11, 23, 1, 30, tzinfo=SHANGHAI)

    add(me, shop, shop.medium, 1)
    r = place(me, pickup_at="asap", pay="store")  # 尽快, paid at the store: ready at 01:15, before 02:00
    assert r.status_code == 302, text(r)
    order = _db.session.get(Order, order_id_of(r))
    assert order.status is OrderStatus.READY and order.pickup_at is None


def test_a_store_open_past_midnight_is_closed_at_three_and_says_when_it_opens(me, shop, at):
    set_hours(shop.store, "22:00", "02:00")
    _db.session.commit()
    at(2026, 11, 23, 3, 0)
    assert 'class="st-open">休息中' in text(me.get(f"/m/{SLUG}/s/{shop.store.id}"))
    add(me, shop, shop.medium, 1)
    page = text(me.get(f"/m/{SLUG}/checkout"))
    assert "门店休息中，今天 22:00 开始营业" in page
    assert options(page)[0] == ("2026-11-23T22:00:00+08:00", "今天 22:00")
    r = place(me, pickup_at="asap")
    assert r.status_code == 409 and 'data-code="store_closed"' in text(r)
    r = place(me, pickup_at="2026-11-24T02:30:00+08:00")  # never a slot: the store closes at 02:00
    assert r.status_code == 409 and 'data-code="store_closed"' in text(r)


# ------------------------------------------------------------------------------------------- 尽快 near closing

@pytest.mark.parametrize("pay", ["store", "online"])
def test_asap_four_minutes_before_closing_is_refused_whichever_way_it_is_paid(me, shop, at, pay):
    set_hours(shop.store, "07:30", "21:30")
    _db.session.commit()
    at(2026, 11, 23, 21, 26)
    add(me, shop, shop.medium, 1)

    page = text(me.get(f"/m/{SLUG}/checkout"))
    assert 'value="asap"' not in page  # not offered: it could not be ready before 21:30
    assert "门店即将打烊，来不及尽快备好；明天 07:30 再开门" in page
    assert options(page)[0] == ("2026-11-24T07:30:00+08:00", "明天 07:30")

    r = place(me, pickup_at="asap", pay=pay)  # a page loaded earlier still offered it
    assert r.status_code == 409 and 'data-code="store_closed"' in text(r) and "07:30–21:30" in text(r)
    json = me.post(f"/m/{SLUG}/checkout", data={"pickup_at": "asap", "pay": pay}, headers={"Accept": "application/json"})
    assert json.status_code == 409 and json.json["error"]["code"] == "store_closed"
    assert _db.session.query(Order).count() == 0

    r = place(me, pickup_at="2026-11-24T07:30:00+08:00", pay=pay)  # tomorrow's first slot is fine
    assert r.status_code == 302, text(r)


@pytest.mark.parametrize("pay_method", [PayMethod.STORE, PayMethod.SANDBOX])
def test_the_service_refuses_asap_ten_minutes_before_closing(shop, at, pay_method):
    set_hours(shop.store, "08:00", "21:00")
    at(2026, 11, 23, 20, 50)
    with pytest.raises(StoreClosed) as err:
        orders.place_order(shop.merchant, shop.store, shop.member, [orders.LineRequest(shop.medium.id, 1)],
                           pay_method=pay_method)
    assert err.value.code == "store_closed"
    _db.session.rollback()
    at(2026, 11, 23, 20, 44)  # ready at 20:59: fine
    order = orders.place_order(shop.merchant, shop.store, shop.member, [orders.LineRequest(shop.medium.id, 1)],
                               pay_method=pay_method)
    # placed: a pay-at-store order waits for pickup at once, an online one for its payment
    assert order.status is (OrderStatus.READY if pay_method is PayMethod.STORE else OrderStatus.PENDING_PAYMENT)


# ------------------------------------------------------------------------------------------- delivery, closed

def test_a_store_delivers_only_while_it_is_open(me, shop, at):
    set_hours(shop.store, "08:00", "21:00")
    shop.store.delivery_radius_m = 3000
    _db.session.commit()
    where = {"fulfilment": "delivery", "delivery_address": "建国路 1 号", "delivery_phone": "13800138000",
             "lat": "39.9100", "lng": "116.4620"}
    at(2026, 11, 23, 22, 0)
    add(me, shop, shop.medium, 1)
    page = text(me.get(f"/m/{SLUG}/checkout"))
    assert 'data-testid="fulfilment-delivery"' not in page and "营业时间内才能配送" in page
    assert "门店休息中，明天 08:00 开始营业" in page
    for pay in ("store", "online"):
        r = place(me, pickup_at="", pay=pay, **where)
        assert r.status_code == 409 and 'data-code="store_closed"' in text(r)

    at(2026, 11, 23, 14, 0)
    assert 'data-testid="fulfilment-delivery"' in text(me.get(f"/m/{SLUG}/checkout"))
    r = place(me, pickup_at="", pay="store", **where)
    assert r.status_code == 302, text(r)


def test_a_store_with_no_time_left_to_order_says_when_it_opens_instead_of_a_form(me, shop, at):
    set_hours(shop.store, "08:10", "08:20")  # no half hour inside: no slot, ever
    _db.session.commit()
    at(2026, 11, 23, 14, 0)
    add(me, shop, shop.medium, 1)
    page = text(me.get(f"/m/{SLUG}/checkout"))
    assert "门店休息中，明天 08:10 开始营业" in page
    assert 'data-testid="pickup-at"' not in page and 'data-testid="place-order"' not in page
    assert 'data-testid="checkout-lines"' in page  # what is in the cart is still shown
    english = text(me.get(f"/m/{SLUG}/checkout?lang=en"))
    assert "The store is closed. Opens Tomorrow 08:10" in english
