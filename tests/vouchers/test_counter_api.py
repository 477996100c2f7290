"""The counter contract through the JSON API: verify, redeem, every refusal with its status."""
from datetime import timedelta

import pytest

from app.core import clock
from app.extensions import db
from app.vouchers import service
from app.vouchers.models import EventKind, Redemption, Voucher, VoucherEvent
from app.vouchers.tokens import make_qr_token
from tests.vouchers.helpers import bearer, issue, redeem, verify


def test_issue_returns_contract_fields(client, world, frozen):
    v = issue(client, world, uses=1, value_fen=2800, valid_until="2026-11-30", store_ids=[world.store.id])
    assert v["status"] == "issued" and v["uses_left"] == 1 and v["value_fen"] == 2800
    assert len(v["code"]) == 14 and v["code"][4] == "-"
    assert v["qr_url"].startswith("http://shop.test/qr/") and v["qr_url"].endswith(".png")
    assert v["qr_content"] == f"http://shop.test/v/{v['token']}"
    # a bare date means the end of that day in Shanghai: 2026-12-01 00:00 +08:00
    assert v["valid_until"] == "2026-11-30T16:00:00Z"
    assert v["store_ids"] == [world.store.id]


def test_issue_needs_a_merchant_key(client, world):
    assert client.post("/api/v1/vouchers", json={"title": "x"}).status_code == 401
    r = client.post("/api/v1/vouchers", json={"title": "x"}, headers=bearer(world.counter_key))
    assert r.status_code == 403


@pytest.mark.parametrize("body,field", [
    ({}, "title"),
    ({"title": "x", "uses": 0}, "uses"),
    ({"title": "x", "value_fen": -1}, "value_fen"),
    ({"title": "x", "valid_until": "yesterday"}, "valid_until"),
    ({"title": "x", "colour": "red"}, "colour"),
])
def test_issue_bad_input_names_the_field(client, world, body, field):
    r = client.post("/api/v1/vouchers", json=body, headers=bearer(world.merchant_key))
    assert r.status_code == 400
    assert r.json["error"]["code"] == "bad_request"
    assert r.json["error"]["field"] == field


def test_issue_refuses_another_merchants_store(client, world):
    r = client.post("/api/v1/vouchers", json={"title": "x", "store_ids": [world.other_store.id]},
                    headers=bearer(world.merchant_key))
    assert r.status_code == 400 and r.json["error"]["field"] == "store_ids"


def test_verify_changes_nothing_and_redeem_takes_one_use(client, world):
    v = issue(client, world)
    r = verify(client, world.counter_key, v["code"])
    assert r.status_code == 200 and r.json["redeemable"] is True
    assert r.json["voucher"]["uses_left"] == 1
    r = redeem(client, world.counter_key, v["code"].lower().replace("-", " "))
    assert r.status_code == 200
    assert r.json["voucher"]["status"] == "redeemed" and r.json["voucher"]["uses_left"] == 0
    assert r.json["redemption"]["store_id"] == world.store.id
    events = db.session.query(VoucherEvent).filter_by(voucher_id=v["id"]).order_by(VoucherEvent.id).all()
    assert [e.kind for e in events] == [EventKind.ISSUED, EventKind.REDEEMED]
    assert events[1].store_id == world.store.id and events[1].device_id


def test_scanned_qr_url_and_wechat_scan_result_are_accepted(client, world):
    v = issue(client, world, uses=3)
    assert verify(client, world.counter_key, v["qr_content"]).status_code == 200
    assert verify(client, world.counter_key, v["token"]).status_code == 200
    assert verify(client, world.counter_key, f"QR_CODE,{v['qr_content']}").status_code == 200


def test_already_redeemed_says_when_where_and_by_whom(client, world, frozen):
    v = issue(client, world)
    assert redeem(client, world.counter_key, v["code"]).status_code == 200
    r = redeem(client, world.counter_key, v["code"])
    assert r.status_code == 409
    err = r.json["error"]
    assert err["code"] == "already_redeemed"
    assert err["store_name"] == "国贸店" and err["staff_name"] == "接口 pos a"
    assert err["redeemed_at"] == "2026-11-23T06:00:00Z" and err["redeemed_at_local"] == "11月23日 14:00"
    assert "11月23日 14:00" in err["message"] and "国贸店" in err["message"]
    assert err["voucher"]["id"] == v["id"]
    english = client.post("/api/v1/counter/redeem?lang=en", json={"code": v["code"]},
                          headers={"Authorization": f"Bearer {world.counter_key}"}).json["error"]
    assert english["message"].startswith("Already redeemed on Nov 23 14:00 at 国贸店")
    assert set(english) == set(err)  # the English date is in the sentence only, not an extra field


def test_forged_token_is_refused_before_the_database(client, world, app):
    v = issue(client, world)
    tampered = v["token"][:-2] + ("AA" if not v["token"].endswith("AA") else "BB")
    from sqlalchemy import event

    statements = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    conn = db.session.connection()
    event.listen(conn, "before_cursor_execute", listener)
    try:
        r = verify(client, world.counter_key, tampered)
    finally:
        event.remove(conn, "before_cursor_execute", listener)
        event.remove(db.engine, "before_cursor_execute", listener)
    assert r.status_code == 400 and r.json["error"]["code"] == "forged"
    assert not [s for s in statements if "vouchers" in s]  # only the API key lookup ran


def test_typo_in_short_code_is_forged(client, world):
    v = issue(client, world)
    code = v["code"].replace("-", "")
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    r = verify(client, world.counter_key, wrong)
    assert r.status_code == 400 and r.json["error"]["code"] == "forged"


def test_a_code_of_the_wrong_length_says_how_long_codes_are(client, world):
    for typed in ("HBTR", "HBTR-5EGK-5G6", "HBTR-5EGK-5G6E-7"):
        r = verify(client, world.counter_key, typed)
        assert r.status_code == 400 and r.json["error"]["code"] == "forged", typed
        assert "券码共 12 位" in r.json["error"]["message"], typed


def test_unknown_code_is_not_found(client, world):
    from app.vouchers import codes

    r = verify(client, world.counter_key, codes.generate())
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_another_merchants_voucher_is_not_found(client, world):
    v = issue(client, world)
    r = verify(client, world.other_counter_key, v["code"])
    assert r.status_code == 404


def test_wrong_store(client, world):
    v = issue(client, world, store_ids=[world.store.id])
    r = redeem(client, world.counter_key_b, v["code"])
    assert r.status_code == 403
    assert r.json["error"]["code"] == "wrong_store" and "国贸店" in r.json["error"]["message"]


def test_not_yet_valid_and_expired(client, world, frozen):
    v = issue(client, world, valid_from="2026-11-24", valid_until="2026-11-25")
    r = verify(client, world.counter_key, v["code"])
    assert r.status_code == 409 and r.json["error"]["code"] == "not_yet_valid"
    clock.advance(timedelta(days=1))  # 11-24 14:00 Shanghai
    assert verify(client, world.counter_key, v["code"]).status_code == 200
    clock.advance(timedelta(days=1, hours=9, minutes=59))  # 11-25 23:59 Shanghai: last minute
    assert verify(client, world.counter_key, v["code"]).status_code == 200
    clock.advance(timedelta(minutes=1))
    r = redeem(client, world.counter_key, v["code"])
    assert r.status_code == 410 and r.json["error"]["code"] == "expired"
    assert "11月25日 23:59" in r.json["error"]["message"]


def test_revoked(client, world):
    v = issue(client, world)
    r = client.post(f"/api/v1/vouchers/{v['id']}/revoke", json={"reason": "活动取消"}, headers=bearer(world.merchant_key))
    assert r.status_code == 200 and r.json["status"] == "revoked"
    r = redeem(client, world.counter_key, v["code"])
    assert r.status_code == 409 and r.json["error"]["code"] == "revoked"
    assert "活动取消" in r.json["error"]["message"]


def test_void(client, world):
    v = issue(client, world)
    service.void(db.session.get(Voucher, v["id"]), reason="订单退款")
    r = redeem(client, world.counter_key, v["code"])
    assert r.status_code == 409 and r.json["error"]["code"] == "void"


def test_redeemed_voucher_cannot_be_voided(client, world):
    from app.vouchers.errors import AlreadyRedeemed

    v = issue(client, world)
    redeem(client, world.counter_key, v["code"])
    with pytest.raises(AlreadyRedeemed):
        service.void(db.session.get(Voucher, v["id"]), reason="退款")


def test_qr_expired(client, world, frozen):
    v = issue(client, world)
    token = make_qr_token("test-secret", v["id"], rotating=True)
    assert verify(client, world.counter_key, token).status_code == 200
    clock.advance(timedelta(seconds=121))
    r = verify(client, world.counter_key, token)
    assert r.status_code == 410 and r.json["error"]["code"] == "qr_expired"


def test_multi_use_card_with_interval(client, world, frozen):
    v = issue(client, world, uses=3, min_interval_seconds=3600)
    r = redeem(client, world.counter_key, v["code"])
    assert r.json["voucher"]["uses_left"] == 2 and r.json["voucher"]["status"] == "partly_used"
    r = redeem(client, world.counter_key, v["code"])
    assert r.status_code == 409 and r.json["error"]["code"] == "too_soon"
    assert "15:00" in r.json["error"]["message"]
    clock.advance(timedelta(hours=1))
    assert redeem(client, world.counter_key, v["code"]).json["voucher"]["uses_left"] == 1
    r = redeem(client, world.counter_key, v["code"], uses=2)
    assert r.status_code == 409 and r.json["error"]["code"] in ("too_soon", "not_enough_uses")
    clock.advance(timedelta(hours=1))
    r = redeem(client, world.counter_key, v["code"], uses=2)
    assert r.status_code == 409 and r.json["error"]["code"] == "not_enough_uses"
    r = redeem(client, world.counter_key, v["code"])
    assert r.json["voucher"]["status"] == "redeemed"
    assert redeem(client, world.counter_key, v["code"]).json["error"]["code"] == "already_redeemed"


def test_idempotency_key_returns_the_first_answer(client, world):
    v = issue(client, world, uses=5)
    first = redeem(client, world.counter_key, v["code"], idempotency_key="tap-1")
    again = redeem(client, world.counter_key, v["code"], idempotency_key="tap-1")
    assert first.status_code == again.status_code == 200
    assert first.json == again.json
    assert db.session.get(Voucher, v["id"]).uses_left == 4
    other = redeem(client, world.counter_key, v["code"], idempotency_key="tap-2")
    assert other.json["voucher"]["uses_left"] == 3


def test_idempotency_key_for_another_voucher_is_refused(client, world):
    a, b = issue(client, world), issue(client, world)
    redeem(client, world.counter_key, a["code"], idempotency_key="k")
    r = redeem(client, world.counter_key, b["code"], idempotency_key="k")
    assert r.status_code == 400 and r.json["error"]["field"] == "idempotency_key"


def test_refused_redeem_leaves_no_redemption(client, world):
    v = issue(client, world, store_ids=[world.store.id])
    redeem(client, world.counter_key_b, v["code"], idempotency_key="x")
    assert db.session.query(Redemption).filter_by(voucher_id=v["id"]).count() == 0


def test_unauthorized_and_revoked_keys(client, world):
    from app.merchants.service import revoke_api_key
    from app.merchants.models import ApiKey

    v = issue(client, world)
    r = client.post("/api/v1/counter/verify", json={"code": v["code"]})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    r = verify(client, world.counter_key + "x", v["code"])
    assert r.status_code == 401
    prefix = world.counter_key.split("_")[1]
    key = db.session.query(ApiKey).filter_by(prefix=prefix).one()
    revoke_api_key(world.merchant, key.id)
    assert verify(client, world.counter_key, v["code"]).status_code == 401
    r = verify(client, world.merchant_key, v["code"])
    assert r.status_code == 403  # a merchant key is not a counter


@pytest.mark.parametrize("body,field", [({}, "code"), ({"code": "x", "uses": 0}, "uses"), ([], "body")])
def test_counter_bad_request_names_the_field(client, world, body, field):
    r = client.post("/api/v1/counter/redeem", json=body, headers=bearer(world.counter_key))
    assert r.status_code == 400 and r.json["error"]["field"] == field


def test_english_messages_on_request(client, world):
    r = client.post("/api/v1/counter/verify?lang=en", json={"code": "2222-2222-2222"},
                    headers=bearer(world.counter_key))
    assert r.json["error"]["code"] in ("forged", "not_found")
    assert r.json["error"]["message"].isascii()


def test_issue_with_a_reference_is_idempotent(client, world):
    first = client.post("/api/v1/vouchers", json={"title": "礼品卡", "reference": "ERP-1001"},
                        headers=bearer(world.merchant_key))
    again = client.post("/api/v1/vouchers", json={"title": "礼品卡", "reference": "ERP-1001"},
                        headers=bearer(world.merchant_key))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["id"] == first.json["id"] and again.json["reference"] == "ERP-1001"
    assert db.session.query(Voucher).filter_by(source_ref="ERP-1001").count() == 1


def test_retried_redeem_replays_even_after_its_rotating_qr_went_stale(client, world, frozen):
    v = issue(client, world, uses=3)
    token = make_qr_token("test-secret", v["id"], rotating=True)
    first = redeem(client, world.counter_key, token, idempotency_key="pos-77")
    clock.advance(timedelta(minutes=5))
    assert redeem(client, world.counter_key, token).json["error"]["code"] == "qr_expired"
    again = redeem(client, world.counter_key, token, idempotency_key="pos-77")
    assert again.status_code == 200 and again.json == first.json
    other = issue(client, world)
    r = redeem(client, world.counter_key, other["code"], idempotency_key="pos-77")
    assert r.status_code == 400 and r.json["error"]["field"] == "idempotency_key"


def test_verify_of_an_order_voucher_shows_the_amount_to_collect(client, world):
    from app.orders import service as orders
    from app.payments.models import PayMethod
    from app.core.database import commit
    from tests.support.factories import make_member, make_product

    product = make_product(world.merchant, stock={world.store: 3})
    member = make_member(world.merchant)
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 2)],
                               pay_method=PayMethod.STORE)
    commit()
    code = db.session.get(Voucher, order.voucher_id).code
    r = verify(client, world.counter_key, code)
    assert r.status_code == 200
    assert r.json["order"]["amount_due_fen"] == 5000 and r.json["order"]["number"] == order.number
    assert r.json["voucher"]["handover"] == "拿铁（中杯）×2"
