from datetime import timedelta

from app.core import clock
from app.extensions import db
from app.vouchers.models import EventKind, Voucher, VoucherEvent
from tests.vouchers.helpers import issue, redeem, undo


def test_undo_inside_the_window_gives_the_use_back(client, world, frozen):
    v = issue(client, world)
    rid = redeem(client, world.counter_key, v["code"]).json["redemption"]["id"]
    clock.advance(timedelta(minutes=29))
    r = undo(client, world.counter_key, rid, reason="顾客拿错了")
    assert r.status_code == 200
    assert r.json["redemption"]["undone_at"] == "2026-11-23T06:29:00Z"
    assert r.json["redemption"]["undo_reason"] == "顾客拿错了"
    assert r.json["voucher"]["status"] == "issued" and r.json["voucher"]["uses_left"] == 1
    # and it can be redeemed again
    assert redeem(client, world.counter_key, v["code"]).status_code == 200
    kinds = [e.kind for e in db.session.query(VoucherEvent).filter_by(voucher_id=v["id"]).order_by(VoucherEvent.id)]
    assert kinds == [EventKind.ISSUED, EventKind.REDEEMED, EventKind.UNDONE, EventKind.REDEEMED]


def test_undo_after_the_window(client, world, frozen):
    v = issue(client, world)
    rid = redeem(client, world.counter_key, v["code"]).json["redemption"]["id"]
    clock.advance(timedelta(minutes=30, seconds=1))
    r = undo(client, world.counter_key, rid)
    assert r.status_code == 409 and r.json["error"]["code"] == "undo_window_passed"
    assert "30 分钟" in r.json["error"]["message"]


def test_undo_window_is_per_merchant(client, world, frozen):
    world.merchant.undo_window_minutes = 60
    db.session.commit()
    v = issue(client, world)
    rid = redeem(client, world.counter_key, v["code"]).json["redemption"]["id"]
    clock.advance(timedelta(minutes=45))
    assert undo(client, world.counter_key, rid).status_code == 200


def test_undo_needs_a_reason_and_the_same_store(client, world):
    v = issue(client, world)
    rid = redeem(client, world.counter_key, v["code"]).json["redemption"]["id"]
    r = client.post(f"/api/v1/counter/redemptions/{rid}/undo", json={"reason": ""},
                    headers={"Authorization": f"Bearer {world.counter_key}"})
    assert r.status_code == 400 and r.json["error"]["field"] == "reason"
    r = undo(client, world.counter_key_b, rid)
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_store"
    r = undo(client, world.other_counter_key, rid)
    assert r.status_code == 404


def test_retried_undo_returns_the_first_answer_and_gives_back_once(client, world):
    v = issue(client, world, uses=3)
    redeem(client, world.counter_key, v["code"])
    rid = redeem(client, world.counter_key, v["code"]).json["redemption"]["id"]
    first = undo(client, world.counter_key, rid)
    again = undo(client, world.counter_key, rid)
    assert first.status_code == again.status_code == 200
    assert first.json["redemption"] == again.json["redemption"]
    assert db.session.get(Voucher, v["id"]).uses_left == 2


def test_multi_use_card_undoes_only_the_latest_use(client, world, frozen):
    v = issue(client, world, uses=3, min_interval_seconds=600)
    first = redeem(client, world.counter_key, v["code"]).json["redemption"]["id"]
    clock.advance(timedelta(minutes=10))
    second = redeem(client, world.counter_key, v["code"]).json["redemption"]["id"]
    r = undo(client, world.counter_key, first)
    assert r.status_code == 409 and r.json["error"]["code"] == "not_latest_use"
    r = undo(client, world.counter_key, second)
    assert r.status_code == 200 and r.json["voucher"]["uses_left"] == 2
    # the interval rule is back to what the first use set: next use 10 minutes after it
    assert r.json["voucher"]["next_use_at"] == "2026-11-23T06:10:00Z"
    assert redeem(client, world.counter_key, v["code"]).status_code == 200


def test_unknown_redemption(client, world):
    r = undo(client, world.counter_key, 999999)
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"
