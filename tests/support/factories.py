"""Small factories: plain functions that add rows and flush."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from app.extensions import db
from app.merchants.models import KeyKind, Merchant, Role, Staff, Store
from app.merchants.service import add_staff, create_api_key
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher, VoucherSource

PASSWORD = "pass1234"


def make_merchant(name: str = "测试咖啡", slug: str = "test-coffee") -> Merchant:
    m = Merchant(name=name, slug=slug)
    db.session.add(m)
    db.session.flush()
    return m


def make_store(merchant: Merchant, name: str = "国贸店", lat: float = 39.9087, lng: float = 116.4605,
               opens_at: time = time(0), closes_at: time = time(0)) -> Store:
    """A store open around the clock (opens_at == closes_at), so a test that orders 尽快 at the real clock
    passes at any hour; a test about opening hours sets them (see `set_hours`)."""
    s = Store(merchant_id=merchant.id, name=name, city="北京", address=f"北京市朝阳区{name}", latitude=lat,
              longitude=lng, opens_at=opens_at, closes_at=closes_at, phone="010-12345678")
    db.session.add(s)
    db.session.flush()
    return s


def set_hours(store: Store, opens: str, closes: str) -> Store:
    """Gives `store` these opening hours ("08:00", "21:00"; Shanghai wall clock) and flushes."""
    store.opens_at, store.closes_at = time.fromisoformat(opens), time.fromisoformat(closes)
    db.session.flush()
    return store


def make_staff(merchant: Merchant, username: str, role: Role, store: Store | None = None, name: str = "张三") -> Staff:
    return add_staff(merchant, name=name, username=username, password=PASSWORD, role=role, store=store)


def make_product(merchant: Merchant, name: str = "拿铁", skus=(("中杯", 2800, 2500),), stock: dict | None = None):
    """A product with SKUs; `stock` maps store -> quantity for every SKU."""
    from app.catalog.models import Product, Sku, StoreStock

    p = Product(merchant_id=merchant.id, name=name, image="img/products/latte.png")
    p.skus = [Sku(name=n, price_fen=price, member_price_fen=member) for n, price, member in skus]
    db.session.add(p)
    db.session.flush()
    for store, qty in (stock or {}).items():
        for sku in p.skus:
            db.session.add(StoreStock(store_id=store.id, sku_id=sku.id, quantity=qty))
    db.session.flush()
    return p


def make_member(merchant: Merchant, nickname: str = "小明"):
    from app.members.service import demo_member

    return demo_member(merchant.id, nickname)


def make_voucher(merchant: Merchant, **kw) -> Voucher:
    kw.setdefault("title", "拿铁兑换券")
    kw.setdefault("source", VoucherSource.API)
    return vouchers.issue(merchant, **kw)


@dataclass
class World:
    merchant: Merchant
    store: Store
    store_b: Store
    owner: Staff
    manager: Staff
    cashier: Staff
    cashier_b: Staff
    merchant_key: str
    counter_key: str
    counter_key_b: str
    other_merchant: Merchant
    other_store: Store
    other_counter_key: str


def make_world() -> World:
    m = make_merchant()
    a = make_store(m, "国贸店")
    b = make_store(m, "三里屯店", 39.9334, 116.4551)
    owner = make_staff(m, "owner", Role.OWNER, name="王老板")
    manager = make_staff(m, "manager", Role.STORE_MANAGER, a, name="李店长")
    cashier = make_staff(m, "cashier", Role.CASHIER, a, name="张三")
    cashier_b = make_staff(m, "cashier_b", Role.CASHIER, b, name="李四")
    _, mk = create_api_key(m, kind=KeyKind.MERCHANT, name="erp")
    _, ck = create_api_key(m, kind=KeyKind.COUNTER, name="pos a", store=a)
    _, ckb = create_api_key(m, kind=KeyKind.COUNTER, name="pos b", store=b)
    other = make_merchant("别家面包", "other-bakery")
    other_store = make_store(other, "望京店")
    _, ock = create_api_key(other, kind=KeyKind.COUNTER, name="pos", store=other_store)
    db.session.flush()
    return World(m, a, b, owner, manager, cashier, cashier_b, mk, ck, ckb, other, other_store, ock)
