"""The console's behaviour: sign-in (limits, cashiers, disabled accounts, idle timeout), CSRF, stores, staff,
keys (through the real API), settings, the audit log and its CSV, `flask merchant create`."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.extensions import db
from app.merchants import audit
from app.merchants.models import ApiKey, AuditEvent, Merchant, Role, Staff, Store
from tests.support.factories import PASSWORD, make_staff
from tests.web.console_support import CSRF, console_client, post


def _sign_in(client, username, password=PASSWORD):
    return post(client, "/console/login", username=username, password=password)


def _events(merchant_id, action=None):
    query = sa.select(AuditEvent).where(AuditEvent.merchant_id == merchant_id).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.execute(query).scalars().all()


# ------------------------------------------------------------------------------------------------ sign-in

def test_owner_signs_in_and_out(app, world):
    c = console_client(app)
    r = _sign_in(c, "owner")
    assert r.status_code == 302 and r.location.endswith("/console/")
    page = c.get("/console/")
    assert page.status_code == 200 and "王老板" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    assert token != CSRF  # a new token after signing in
    assert c.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/console/").status_code == 302


def test_wrong_password_is_refused_with_401(app, world):
    r = _sign_in(console_client(app), "owner", "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)


def test_cashier_signing_in_is_sent_to_the_counter(app, world):
    c = console_client(app)
    r = _sign_in(c, "cashier")
    assert r.status_code == 403
    body = r.get_data(as_text=True)
    assert "收银员请使用收银台" in body and 'href="/counter/"' in body
    with c.session_transaction() as s:
        assert "staff_id" not in s


def test_sign_in_is_limited_per_username(app, world):
    c = console_client(app)
    for _ in range(5):
        assert _sign_in(c, "owner", "wrong-password").status_code == 401
    r = _sign_in(c, "owner")  # even the right password, until the window ends
    assert r.status_code == 429
    assert "登录失败次数过多" in r.get_data(as_text=True)
    # another username from another address is not affected
    assert _sign_in(console_client(app, ip="10.0.0.9"), "manager").status_code == 302


def test_sign_in_is_limited_per_ip(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "CONSOLE_LOGIN_LIMITS_IP", "3/minute")
    c = console_client(app, ip="10.0.0.7")
    for name in ("a1", "a2", "a3"):
        assert _sign_in(c, name, "x").status_code == 401
    r = _sign_in(c, "owner")
    assert r.status_code == 429
    r = _sign_in(console_client(app, ip="10.0.0.8"), "owner")
    assert r.status_code == 302


def test_a_form_without_the_csrf_token_is_refused(app, world):
    c = console_client(app, world.owner)
    store = world.store
    r = c.post(f"/console/stores/{store.id}/pause", data={})
    assert r.status_code == 403 and "表单已过期" in r.get_data(as_text=True)
    r = c.post(f"/console/stores/{store.id}/pause", data={"csrf_token": "forged"})
    assert r.status_code == 403
    r = c.post("/console/login", data={"username": "owner", "password": PASSWORD})
    assert r.status_code == 403
    db.session.refresh(store)
    assert store.active


def test_a_disabled_account_is_signed_out_at_its_next_request(app, world):
    manager = console_client(app, world.manager)
    assert manager.get("/console/stores").status_code == 200
    assert post(console_client(app, world.owner), f"/console/staff/{world.manager.id}/disable").status_code == 302
    r = manager.get("/console/stores")
    assert r.status_code == 302 and "/console/login" in r.location
    assert _sign_in(console_client(app), "manager").status_code == 401


def test_the_session_ends_after_idle_time(app, world, frozen):
    c = console_client(app)
    _sign_in(c, "owner")
    clock.freeze(frozen + timedelta(minutes=29))
    assert c.get("/console/").status_code == 200  # activity: the idle clock starts again
    clock.freeze(frozen + timedelta(minutes=29 + 31))
    r = c.get("/console/stores")
    assert r.status_code == 302 and "idle=1" in r.location
    assert "长时间未操作" in c.get(r.location).get_data(as_text=True)
    assert c.get("/console/").status_code == 302


# ------------------------------------------------------------------------------------------------- stores

STORE_FORM = dict(name="国贸店", city="北京", address="北京市朝阳区国贸", phone="010-1", opens_at="22:00",
                  closes_at="02:00", latitude="39.9", longitude="116.4", delivery_radius_m="1500")


def test_owner_edits_hours_past_midnight_and_the_shop_shows_it_next(app, world):
    shop = app.test_client()
    page = shop.get(f"/m/{world.merchant.slug}/s/{world.store.id}")
    assert "22:00–02:00" not in page.get_data(as_text=True)
    r = post(console_client(app, world.owner), f"/console/stores/{world.store.id}/edit", **STORE_FORM)
    assert r.status_code == 302
    assert "22:00–02:00" in shop.get(f"/m/{world.merchant.slug}/s/{world.store.id}").get_data(as_text=True)
    [event] = _events(world.merchant.id, "store.update")
    assert event.staff_id == world.owner.id and event.role == "owner" and event.ip == "127.0.0.1"
    assert event.before["opens_at"] == "00:00" and event.after == {
        "opens_at": "22:00", "closes_at": "02:00", "latitude": 39.9, "longitude": 116.4, "delivery_radius_m": 1500,
        "address": "北京市朝阳区国贸", "phone": "010-1"}  # only what changed
    detail = console_client(app, world.owner).get(f"/console/stores/{world.store.id}").get_data(as_text=True)
    assert "22:00–02:00" in detail and "跨午夜" in detail


def test_a_bad_store_form_names_the_field(app, world):
    r = post(console_client(app, world.owner), f"/console/stores/{world.store.id}/edit",
             **(STORE_FORM | {"latitude": "123"}))
    assert r.status_code == 400 and "latitude" in r.get_data(as_text=True)
    assert _events(world.merchant.id) == []


def test_owner_creates_a_store(app, world):
    r = post(console_client(app, world.owner), "/console/stores/new", **(STORE_FORM | {"name": "新天地店"}))
    assert r.status_code == 302
    store = db.session.execute(sa.select(Store).where(Store.name == "新天地店")).scalar_one()
    assert store.merchant_id == world.merchant.id and store.delivery_radius_m == 1500
    assert _events(world.merchant.id, "store.create")[0].object_id == store.id


def test_manager_pauses_their_store_only_and_the_shop_hides_it(app, world):
    manager = console_client(app, world.manager)
    assert post(manager, f"/console/stores/{world.store.id}/pause").status_code == 302
    assert post(manager, f"/console/stores/{world.store_b.id}/pause").status_code == 404
    db.session.refresh(world.store)
    db.session.refresh(world.store_b)
    assert not world.store.active and world.store_b.active
    home = app.test_client().get(f"/m/{world.merchant.slug}/").get_data(as_text=True)
    assert world.store.name not in home and world.store_b.name in home
    assert [e.role for e in _events(world.merchant.id, "store.pause")] == ["store_manager"]
    listing = manager.get("/console/stores").get_data(as_text=True)
    assert world.store_b.name not in listing


def test_operator_views_stores_but_cannot_change_them(app, world):
    operator = console_client(app, make_staff(world.merchant, "op", Role.OPERATOR))
    db.session.commit()
    assert operator.get("/console/stores").status_code == 200
    assert post(operator, f"/console/stores/{world.store.id}/pause").status_code == 403
    assert post(operator, f"/console/stores/{world.store.id}/edit", **STORE_FORM).status_code == 403


def test_store_list_sorts_pages_and_exports_csv_with_a_bom(app, world):
    owner = console_client(app, world.owner)
    def ids(url):
        return [int(i) for i in re.findall(r'data-testid="store-row" data-store-id="(\d+)"', owner.get(url).get_data(as_text=True))]

    assert ids("/console/stores?sort=id&desc=1") == [world.store_b.id, world.store.id]
    assert ids("/console/stores?sort=id") == [world.store.id, world.store_b.id]
    assert ids("/console/stores?sort=nonsense") == [world.store.id, world.store_b.id]
    assert ids("/console/stores?status=paused") == []
    r = owner.get("/console/stores.csv?q=三里屯")
    assert r.mimetype == "text/csv"
    raw = r.get_data()
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert "三里屯店" in text and "国贸店" not in text


# -------------------------------------------------------------------------------------------------- staff

def test_owner_creates_a_cashier_who_can_sign_in_at_the_counter(app, world):
    r = post(console_client(app, world.owner), "/console/staff/new", name="周收银", username="Zhou1",
             password="cashier-pass", role="cashier", store_id=str(world.store_b.id))
    assert r.status_code == 302
    new = db.session.execute(sa.select(Staff).where(Staff.username == "zhou1")).scalar_one()
    assert new.store_id == world.store_b.id and new.role is Role.CASHIER
    counter = app.test_client()
    r = counter.post("/counter/login", data={"username": "zhou1", "password": "cashier-pass"})
    assert r.status_code == 302 and r.location.endswith("/counter/")
    [event] = _events(world.merchant.id, "staff.create")
    assert "password" not in json.dumps(event.after) and "cashier-pass" not in json.dumps(event.after)


def test_a_taken_username_is_refused_on_the_form(app, world):
    r = post(console_client(app, world.owner), "/console/staff/new", name="x", username="cashier",
             password="cashier-pass", role="cashier", store_id=str(world.store.id))
    assert r.status_code == 409 and "用户名已被使用" in r.get_data(as_text=True)


def test_manager_manages_only_cashiers_of_their_store(app, world):
    manager = console_client(app, world.manager)
    r = post(manager, "/console/staff/new", name="新店长", username="mgr2", password="password1",
             role="store_manager", store_id=str(world.store.id))
    assert r.status_code == 403
    r = post(manager, "/console/staff/new", name="吴收银", username="wu_cash", password="password1", role="cashier",
             store_id=str(world.store_b.id))
    assert r.status_code == 404  # another store is not theirs to see
    r = post(manager, "/console/staff/new", name="吴收银", username="wu_cash", password="password1", role="cashier",
             store_id=str(world.store.id))
    assert r.status_code == 302
    listing = manager.get("/console/staff").get_data(as_text=True)
    assert "吴收银" in listing and world.cashier.name in listing
    assert world.cashier_b.name not in listing and world.owner.name not in listing
    assert post(manager, f"/console/staff/{world.owner.id}/disable").status_code == 404
    assert post(manager, f"/console/staff/{world.cashier_b.id}/password").status_code == 404


def test_password_reset_is_shown_once_and_ends_the_old_session(app, world):
    cashier = app.test_client()
    cashier.post("/counter/login", data={"username": "cashier", "password": PASSWORD})
    assert cashier.get("/counter/").status_code == 200
    r = post(console_client(app, world.owner), f"/console/staff/{world.cashier.id}/password")
    shown = re.search(r'<code class="secret">([^<]+)</code>', r.get_data(as_text=True)).group(1)
    assert cashier.get("/counter/").status_code == 302  # signed out
    assert app.test_client().post("/counter/login", data={"username": "cashier", "password": shown}).status_code == 302
    assert shown not in json.dumps([(e.before, e.after) for e in _events(world.merchant.id)])


def test_owner_binds_a_cashier_to_another_store(app, world):
    r = post(console_client(app, world.owner), f"/console/staff/{world.cashier.id}/bind", store_id=str(world.store_b.id))
    assert r.status_code == 302
    db.session.refresh(world.cashier)
    assert world.cashier.store_id == world.store_b.id
    [event] = _events(world.merchant.id, "staff.bind")
    assert event.before == {"store_id": world.store.id} and event.after == {"store_id": world.store_b.id}


def test_staff_csv_has_a_bom_and_chinese_names(app, world):
    raw = console_client(app, world.owner).get("/console/staff.csv").get_data()
    assert raw.startswith(b"\xef\xbb\xbf") and "王老板" in raw.decode("utf-8-sig")


# --------------------------------------------------------------------------------------------------- keys

def test_revoking_a_counter_key_makes_the_api_refuse_it_at_once(app, world):
    api = app.test_client()
    headers = {"Authorization": f"Bearer {world.counter_key}"}
    r = api.post("/api/v1/counter/verify", json={"code": "K7QD-9XWF-3M2P"}, headers=headers)
    assert r.status_code != 401
    key = db.session.execute(sa.select(ApiKey).where(ApiKey.prefix == world.counter_key.split("_")[1])).scalar_one()
    assert post(console_client(app, world.owner), f"/console/keys/{key.id}/revoke").status_code == 302
    r = api.post("/api/v1/counter/verify", json={"code": "K7QD-9XWF-3M2P"}, headers=headers)
    assert r.status_code == 401
    assert _events(world.merchant.id, "key.revoke")[0].object_id == key.id


def test_a_new_key_is_shown_once_and_works(app, world):
    owner = console_client(app, world.owner)
    r = post(owner, "/console/keys", name="1 号收银机", kind="counter", store_id=str(world.store.id))
    assert r.status_code == 201
    secret = re.search(r'data-testid="new-key-secret">([^<]+)<', r.get_data(as_text=True)).group(1)
    assert secret not in owner.get("/console/keys").get_data(as_text=True)
    r = app.test_client().post("/api/v1/counter/verify", json={"code": "K7QD-9XWF-3M2P"},
                               headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code != 401
    assert secret not in json.dumps(_events(world.merchant.id, "key.create")[0].after)


def test_a_counter_key_for_another_merchants_store_is_refused(app, world):
    r = post(console_client(app, world.owner), "/console/keys", name="x", kind="counter",
             store_id=str(world.other_store.id))
    assert r.status_code == 404


# ----------------------------------------------------------------------------------------------- settings

def test_owner_changes_settings_and_checkout_offers_the_new_slot_length(app, world):
    r = post(console_client(app, world.owner), "/console/settings/save", undo_window_minutes="10",
             unpaid_cancel_minutes="20", fen_per_point="200", pickup_slot_minutes="15")
    assert r.status_code == 302
    merchant = db.session.get(Merchant, world.merchant.id)
    db.session.refresh(merchant)
    assert (merchant.undo_window_minutes, merchant.unpaid_cancel_minutes, merchant.fen_per_point,
            merchant.rotate_qr, merchant.pickup_slot_minutes) == (10, 20, 200, False, 15)
    [event] = _events(world.merchant.id, "settings.update")
    assert event.before["pickup_slot_minutes"] == 30 and event.after["pickup_slot_minutes"] == 15


def test_a_slot_length_that_does_not_divide_the_hour_is_refused(app, world):
    r = post(console_client(app, world.owner), "/console/settings/save", undo_window_minutes="10",
             unpaid_cancel_minutes="20", fen_per_point="200", pickup_slot_minutes="25")
    assert r.status_code == 400


def test_pickup_slots_follow_the_slot_length():
    from datetime import datetime, time

    from app.core.clock import SHANGHAI
    from app.merchants import hours

    class Shop:
        opens_at, closes_at = time(8), time(10)

    now = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
    [(_, slots)] = hours.pickup_choices(Shop, now, 15).slots[:1]
    assert [t for _, t in slots][:3] == ["08:15", "08:30", "08:45"]


# -------------------------------------------------------------------------------------------------- audit

def test_the_audit_log_filters_and_exports(app, world):
    owner = console_client(app, world.owner)
    post(owner, f"/console/stores/{world.store.id}/pause")
    post(console_client(app, world.manager), f"/console/stores/{world.store.id}/resume")
    page = owner.get("/console/audit").get_data(as_text=True)
    assert page.count('data-testid="audit-row"') == 2
    page = owner.get(f"/console/audit?staff_id={world.manager.id}").get_data(as_text=True)
    assert page.count('data-testid="audit-row"') == 1 and "store.resume" in page
    page = owner.get("/console/audit?action=store.pause").get_data(as_text=True)
    assert page.count('data-testid="audit-row"') == 1
    assert owner.get("/console/audit?since=2000-01-01&until=2000-01-02").get_data(as_text=True).count(
        'data-testid="audit-row"') == 0
    raw = owner.get("/console/audit.csv").get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "store.pause" in text and "李店长" in text and "王老板" in text


def test_audit_events_are_append_only(app, world):
    post(console_client(app, world.owner), f"/console/stores/{world.store.id}/pause")
    [event] = _events(world.merchant.id)
    event.action = "nothing happened"
    with pytest.raises(audit.AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    [event] = _events(world.merchant.id)
    db.session.delete(event)
    with pytest.raises(audit.AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_a_failed_change_leaves_no_audit_row(app, world):
    post(console_client(app, world.owner), "/console/staff/new", name="x", username="cashier",
         password="cashier-pass", role="cashier", store_id=str(world.store.id))
    assert _events(world.merchant.id) == []


# ---------------------------------------------------------------------------------------------------- CLI

def test_merchant_create_prompts_for_a_hidden_password(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["merchant", "create", "--name", "新商户", "--slug", "new-shop", "--owner", "boss"],
                           input="very-secret-1\nvery-secret-1\n")
    assert result.exit_code == 0, result.output
    assert "very-secret-1" not in result.output
    owner = db.session.execute(sa.select(Staff).where(Staff.username == "boss")).scalar_one()
    assert owner.role is Role.OWNER
    again = runner.invoke(args=["merchant", "create", "--name", "x", "--slug", "new-shop", "--owner", "boss2"],
                          input="very-secret-1\nvery-secret-1\n")
    assert again.exit_code == 1 and "taken" in again.output


def test_the_counter_sign_in_shares_the_limit(app, world):
    """Failed tries at the counter and at the console are one count: switching doors gives no more tries."""
    counter = app.test_client()
    counter.environ_base["REMOTE_ADDR"] = "10.0.0.21"
    for _ in range(3):
        r = counter.post("/counter/login", data={"username": "cashier", "password": "wrong-password"})
        assert r.status_code == 401
    for _ in range(2):
        assert _sign_in(console_client(app, ip="10.0.0.22"), "cashier", "wrong-password").status_code == 401
    r = counter.post("/counter/login", data={"username": "cashier", "password": PASSWORD})
    assert r.status_code == 429
    assert "登录失败次数过多" in r.get_data(as_text=True)
    # another cashier is not held back
    r = counter.post("/counter/login", data={"username": "cashier_b", "password": PASSWORD})
    assert r.status_code == 302
