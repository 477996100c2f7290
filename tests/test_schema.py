"""`flask db upgrade` from empty gives exactly the models' schema, on the test engine."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from tests.support.databases import fresh_database
from tests.support.live import app_env, flask


def test_upgrade_from_empty_matches_the_models(app):
    with fresh_database("schema") as url:
        flask(app_env(url), "db", "upgrade")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(ctx, db.metadata)
                tables = set(sa.inspect(conn).get_table_names())
        finally:
            engine.dispose()
    assert diff == []
    assert set(db.metadata.tables) <= tables


def test_downgrade_to_base_and_up_again():
    with fresh_database("downgrade") as url:
        env = app_env(url)
        flask(env, "db", "upgrade")
        flask(env, "db", "downgrade", "base")
        flask(env, "db", "upgrade")


def test_upgrade_keeps_existing_rows():
    """An installation on the first revision, with data pointing at the tables that later migrations
    rebuild (SQLite batch mode), upgrades to head without losing or breaking a row."""
    with fresh_database("data") as url:
        env = app_env(url)
        flask(env, "db", "upgrade", "cdc74166eb52")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.begin() as c:
                c.execute(sa.text("INSERT INTO merchants (id, name, slug, undo_window_minutes, rotate_qr, created_at) "
                                  "VALUES (1, 'm', 'm', 30, true, '2026-01-01 00:00:00')"))
                c.execute(sa.text(
                    "INSERT INTO stores (id, merchant_id, name, city, address, latitude, longitude, opens_at, closes_at,"
                    " phone, active, created_at) VALUES (1, 1, 's', 'c', 'a', 31.2, 121.4, '08:00:00', '21:00:00',"
                    " '1', true, '2026-01-01 00:00:00')"))
                c.execute(sa.text(
                    "INSERT INTO members (id, merchant_id, openid, nickname, avatar_url, created_at)"
                    " VALUES (1, 1, 'o1', 'n', '', '2026-01-01 00:00:00')"))
            flask(env, "db", "upgrade")
            with engine.connect() as c:
                assert c.execute(sa.text("SELECT count(*) FROM stores WHERE merchant_id = 1")).scalar() == 1
                assert c.execute(sa.text("SELECT points FROM members WHERE id = 1")).scalar() == 0
                assert c.execute(sa.text("SELECT delivery_radius_m FROM stores WHERE id = 1")).scalar() == 0
        finally:
            engine.dispose()


def test_upgrade_gives_existing_order_lines_their_payable_and_member_price():
    """Order lines placed before the price quote get payable = unit × quantity and, where the member price
    applied, a member_price adjustment of (list − unit) × quantity; the lines' CHECKs still hold after
    SQLite's batch rebuild of the table."""
    with fresh_database("payable") as url:
        env = app_env(url)
        flask(env, "db", "upgrade", "679c1e8c48fe")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        at = "'2026-01-01 00:00:00'"
        try:
            with engine.begin() as c:
                for sql in (
                    f"INSERT INTO merchants (id, name, slug, created_at) VALUES (1, 'm', 'm', {at})",
                    "INSERT INTO stores (id, merchant_id, name, city, address, latitude, longitude, opens_at, closes_at,"
                    f" phone, created_at) VALUES (1, 1, 's', 'c', 'a', 31.2, 121.4, '08:00:00', '21:00:00', '1', {at})",
                    f"INSERT INTO members (id, merchant_id, created_at) VALUES (1, 1, {at})",
                    f"INSERT INTO products (id, merchant_id, name, image, created_at) VALUES (1, 1, 'p', 'i', {at})",
                    "INSERT INTO skus (id, product_id, name, price_fen, member_price_fen) VALUES (1, 1, 'a', 2800, 2500)",
                    "INSERT INTO skus (id, product_id, name, price_fen) VALUES (2, 1, 'b', 1550)",
                    "INSERT INTO orders (id, number, merchant_id, store_id, member_id, status, fulfilment, pay_method,"
                    f" total_fen, list_total_fen, created_at) VALUES (1, 'N1', 1, 1, 1, 'ready', 'pickup', 'sandbox',"
                    f" 9650, 10250, {at})",
                    "INSERT INTO order_lines (id, order_id, product_id, sku_id, product_name, sku_name, quantity,"
                    " unit_price_fen, list_price_fen) VALUES (1, 1, 1, 1, 'p', 'a', 2, 2500, 2800)",
                    "INSERT INTO order_lines (id, order_id, product_id, sku_id, product_name, sku_name, quantity,"
                    " unit_price_fen, list_price_fen) VALUES (2, 1, 1, 2, 'p', 'b', 3, 1550, 1550)",
                ):
                    c.execute(sa.text(sql))
            flask(env, "db", "upgrade")
            with engine.connect() as c:
                assert c.execute(sa.text("SELECT id, payable_fen FROM order_lines ORDER BY id")).all() == [
                    (1, 5000), (2, 4650)]
                assert c.execute(sa.text(
                    "SELECT order_line_id, kind, source, amount_fen FROM order_line_adjustments ORDER BY id")).all() == [
                    (1, "member_price", "member_price", 600)]
            for broken in ("UPDATE order_lines SET unit_price_fen = 9999 WHERE id = 1",  # above the list price
                           "UPDATE order_lines SET payable_fen = 5001 WHERE id = 1",  # above unit × quantity
                           "UPDATE order_lines SET quantity = 0 WHERE id = 2",
                           "INSERT INTO order_line_adjustments (order_line_id, kind, source, amount_fen)"
                           " VALUES (2, 'member_price', 'member_price', 0)",
                           "INSERT INTO order_line_adjustments (order_line_id, kind, source, amount_fen)"
                           " VALUES (2, 'nonsense', 'x', 1)"):
                with engine.connect() as c, pytest.raises(sa.exc.IntegrityError):
                    c.execute(sa.text(broken))
        finally:
            engine.dispose()


def test_upgrade_links_existing_pickup_vouchers_and_names_event_kinds():
    """Vouchers issued for orders before the link table name their order in source_ref once, read by the
    migration; old order events get their kind from what their status and note said."""
    with fresh_database("links") as url:
        env = app_env(url)
        flask(env, "db", "upgrade", "602b247419aa")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        at = "'2026-01-01 00:00:00'"
        try:
            with engine.begin() as c:
                for sql in (
                    f"INSERT INTO merchants (id, name, slug, created_at) VALUES (1, 'm', 'm', {at})",
                    "INSERT INTO stores (id, merchant_id, name, city, address, latitude, longitude, opens_at, closes_at,"
                    f" phone, created_at) VALUES (1, 1, 's', 'c', 'a', 31.2, 121.4, '08:00:00', '21:00:00', '1', {at})",
                    f"INSERT INTO members (id, merchant_id, created_at) VALUES (1, 1, {at})",
                    "INSERT INTO orders (id, number, merchant_id, store_id, member_id, status, fulfilment, pay_method,"
                    f" total_fen, list_total_fen, created_at) VALUES (12, 'N1', 1, 1, 1, 'ready', 'pickup', 'sandbox',"
                    f" 100, 100, {at})",
                    *(f"INSERT INTO vouchers (id, merchant_id, code, title, source, source_ref, status, uses_total,"
                      f" uses_left, valid_from, created_at, updated_at) VALUES ({vid}, 1, 'C{vid}', 't', '{src}',"
                      f" '{ref}', 'issued', 1, 1, {at}, {at}, {at})"
                      for vid, src, ref in ((5, "order", "order:12:1"), (6, "order", "order:12:2"),
                                            (7, "api", "order:99:1"))),
                    *(f"INSERT INTO order_events (order_id, status_before, status_after, note, created_at)"
                      f" VALUES (12, {before}, '{after}', '{note}', {at})"
                      for before, after, note in (("NULL", "pending_payment", ""), ("'pending_payment'", "ready", "已支付"),
                                                  ("'ready'", "picked_up", "门店核销"), ("'picked_up'", "ready", "撤销核销"),
                                                  ("'pending_payment'", "cancelled", "超时未支付，自动取消"),
                                                  ("'ready'", "cancelled", "顾客取消"), ("'pending_payment'", "ready", "到店支付"))),
                ):
                    c.execute(sa.text(sql))
            flask(env, "db", "upgrade")
            with engine.connect() as c:
                assert c.execute(sa.text("SELECT voucher_id, order_id, generation FROM order_vouchers"
                                         " ORDER BY voucher_id")).all() == [(5, 12, 1), (6, 12, 2)]
                assert c.execute(sa.text("SELECT kind, note FROM order_events ORDER BY id")).all() == [
                    ("placed", ""), ("paid", ""), ("picked_up", ""), ("pickup_undone", ""),
                    ("expired", "超时未支付，自动取消"), ("cancelled", "顾客取消"), ("pay_at_store", "")]
        finally:
            engine.dispose()


def test_upgrade_turns_campaign_store_strings_into_links_and_back():
    """Group-buy campaigns kept their pickup stores as "1,2": the upgrade makes one link per id that is a store
    of the campaign's own merchant (another merchant's store and an id of no store are left behind, "12" is
    not "1" or "2"), and the downgrade writes the string back from the links."""
    with fresh_database("gbstores") as url:
        env = app_env(url)
        flask(env, "db", "upgrade", "6fd11324041d")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        at = "'2026-01-01 00:00:00'"
        store = ("INSERT INTO stores (id, merchant_id, name, city, address, latitude, longitude, opens_at, closes_at,"
                 " phone, created_at) VALUES ({}, {}, 's', 'c', 'a', 31.2, 121.4, '08:00:00', '21:00:00', '1', " + at + ")")
        campaign = ("INSERT INTO groupbuy_campaigns (id, merchant_id, sku_id, title, group_price_fen, team_size,"
                    " time_limit_hours, starts_at, ends_at, stock_left, store_ids, status, created_at) VALUES"
                    " ({}, 1, 1, 't', 900, 2, 24, " + at + ", '2026-02-01 00:00:00', 10, '{}', 'active', " + at + ")")
        try:
            with engine.begin() as c:
                for sql in (
                    f"INSERT INTO merchants (id, name, slug, created_at) VALUES (1, 'm', 'm', {at})",
                    f"INSERT INTO merchants (id, name, slug, created_at) VALUES (2, 'o', 'o', {at})",
                    store.format(1, 1), store.format(2, 1), store.format(12, 1), store.format(3, 2),
                    f"INSERT INTO products (id, merchant_id, name, image, created_at) VALUES (1, 1, 'p', 'i', {at})",
                    "INSERT INTO skus (id, product_id, merchant_id, name, price_fen) VALUES (1, 1, 1, 'a', 1000)",
                    campaign.format(1, "1,2"), campaign.format(2, "12, 3,99"), campaign.format(3, ""),
                ):
                    c.execute(sa.text(sql))
            flask(env, "db", "upgrade")
            with engine.connect() as c:
                assert c.execute(sa.text("SELECT campaign_id, store_id FROM groupbuy_campaign_stores"
                                         " ORDER BY campaign_id, store_id")).all() == [(1, 1), (1, 2), (2, 12)]
                assert "store_ids" not in {col["name"] for col in sa.inspect(c).get_columns("groupbuy_campaigns")}
            with engine.connect() as c, pytest.raises(sa.exc.IntegrityError):  # a link names a store
                if c.dialect.name == "sqlite":
                    c.exec_driver_sql("PRAGMA foreign_keys=ON")  # as the application's engine does
                c.execute(sa.text("INSERT INTO groupbuy_campaign_stores (campaign_id, store_id) VALUES (3, 99)"))
            flask(env, "db", "downgrade", "6fd11324041d")
            with engine.connect() as c:
                assert c.execute(sa.text("SELECT id, store_ids FROM groupbuy_campaigns ORDER BY id")).all() == [
                    (1, "1,2"), (2, "12"), (3, "")]
        finally:
            engine.dispose()
