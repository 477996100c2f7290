"""Demo data: a coffee and bakery chain in Shanghai. Idempotent: loading twice changes nothing."""
from __future__ import annotations

from datetime import time, timedelta

import sqlalchemy as sa

from app.catalog.models import Category, Product, ProductPhoto, Sku, StoreStock
from app.core.clock import now_utc
from app.extensions import db
from app.groupbuys.models import CampaignStatus, GroupBuyCampaign, GroupBuyCampaignStore
from app.merchants.models import KeyKind, Merchant, Role, Store
from app.members.service import demo_member
from app.merchants.service import add_staff, create_api_key
from app.vouchers import codes
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher, VoucherSource
from app.presales import demo as presale_demo

SLUG = "demo-coffee"
PASSWORD = "demo1234"

STORES = [
    # name, address, lat, lng, phone, delivery radius (m)
    ("人民广场店", "上海市黄浦区南京西路 123 号", 31.232, 121.4737, "021-6350 1001", 3000),
    ("静安寺店", "上海市静安区南京西路 1618 号", 31.2247, 121.4455, "021-6248 1002", 0),
    ("陆家嘴店", "上海市浦东新区世纪大道 100 号", 31.2356, 121.5055, "021-5878 1003", 5000),
]

DEMO_MEMBERS = ["小明", "小红"]

CATEGORIES = ["咖啡", "茶饮", "烘焙", "轻食"]

# slug, name, category, description, featured, [(sku, price_fen, member_price_fen)]
PRODUCTS = [
    ("latte", "拿铁", "咖啡", "意式浓缩与蒸汽牛奶，口感顺滑。", True, [("中杯", 2800, 2500), ("大杯", 3200, 2900)]),
    ("americano", "美式咖啡", "咖啡", "浓缩咖啡加热水，清爽醇厚。", True, [("中杯", 2200, 2000), ("大杯", 2600, 2400)]),
    ("cappuccino", "卡布奇诺", "咖啡", "绵密奶泡，咖啡香浓。", False, [("中杯", 2800, 2500), ("大杯", 3200, 2900)]),
    ("flat-white", "澳白", "咖啡", "双份浓缩，薄奶泡。", False, [("标准", 3000, 2700)]),
    ("mocha", "摩卡", "咖啡", "巧克力与咖啡的组合。", False, [("中杯", 3000, 2700), ("大杯", 3400, 3100)]),
    ("matcha-latte", "抹茶拿铁", "茶饮", "宇治抹茶配鲜牛奶。", True, [("中杯", 3000, 2700)]),
    ("cold-brew", "冷萃咖啡", "咖啡", "低温慢萃 12 小时。", False, [("标准", 3200, None)]),
    ("croissant", "黄油可颂", "烘焙", "法国黄油，每日现烤。", True, [("个", 1800, 1600)]),
    ("bagel", "贝果", "烘焙", "有嚼劲的纽约风贝果。", False, [("原味", 1500, 1300), ("芝麻", 1600, 1400)]),
    ("cheesecake", "纽约芝士蛋糕", "烘焙", "浓郁芝士，绵密细腻。", True, [("块", 3200, 2900)]),
    ("tiramisu", "提拉米苏", "烘焙", "马斯卡彭与咖啡酒香。", False, [("块", 3500, 3200)]),
    ("cinnamon-roll", "肉桂卷", "烘焙", "肉桂糖霜，温热更好吃。", False, [("个", 1900, 1700)]),
    ("sandwich", "火腿芝士三明治", "轻食", "全麦面包，现点现做。", False, [("份", 2600, 2300)]),
    ("muffin", "蓝莓玛芬", "烘焙", "满满蓝莓果粒。", False, [("个", 1600, 1400)]),
]
# Products with a second photo (static/img/products/<slug>-top.png, made by scripts/make_images.py).
TOP_VIEWS = {"latte", "cappuccino", "flat-white", "mocha", "matcha-latte"}

STAFF = [
    # username, name, role, store index
    ("owner", "王老板", Role.OWNER, None),
    ("manager1", "李店长", Role.STORE_MANAGER, 0),
    ("cashier1", "张三", Role.CASHIER, 0),
    ("cashier2", "李四", Role.CASHIER, 1),
    ("cashier3", "王五", Role.CASHIER, 2),
]

GROUPBUYS = [
    # title, product slug, SKU index, group price, leader price, team size, hours, rules
    ("拿铁 2 人团", "latte", 0, 1990, None, 2, 24,
     "2 人成团，每人 1 杯中杯拿铁，成团后凭取货码到所选门店取货。\n团长付款后 24 小时内未成团，每位成员的订单原路退款。"),
    ("可颂 3 人团 · 1 小时成团（演示）", "croissant", 0, 1200, 990, 3, 1,
     "3 人成团，团长价 ¥9.9。团长付款后 1 小时内未成团，每位成员的订单原路退款。\n"
     "演示：在商户后台「拼团」里可以直接结束一个团的计时，看拼团失败与退款。"),
]

VOUCHERS = [
    # title, handover, uses, min_interval_seconds, value_fen
    ("拿铁兑换券", "中杯拿铁 1 杯", 1, None, 2800),
    ("可颂兑换券", "黄油可颂 1 个", 1, None, 1800),
    ("咖啡次卡（10 次）", "任意中杯咖啡 1 杯", 10, 3600 * 12, None),
]


def load(secret: str) -> dict:
    """Creates the demo merchant when missing and returns what a newcomer needs to sign in.

    API keys are stored hashed; the demo's keys are derived from the instance secret, so a second run
    prints the same keys and changes nothing.
    """
    merchant = db.session.execute(sa.select(Merchant).where(Merchant.slug == SLUG)).scalar_one_or_none()
    created = merchant is None
    if created:
        merchant = _create()
    stores = list(db.session.execute(
        sa.select(Store).where(Store.merchant_id == merchant.id).order_by(Store.id)).scalars())
    out = {"merchant": {"id": merchant.id, "name": merchant.name, "slug": merchant.slug, "api_key": None},
           "stores": [{"id": s.id, "name": s.name, "counter_key": None} for s in stores],
           "staff": [], "vouchers": [], "created": created}
    material = ("demo-keys:" + secret).encode()
    _, out["merchant"]["api_key"] = create_api_key(merchant, kind=KeyKind.MERCHANT, name="demo",
                                                   derive_from=material)
    for entry, store in zip(out["stores"], stores):
        _, entry["counter_key"] = create_api_key(merchant, kind=KeyKind.COUNTER, name=f"demo {store.name}",
                                                 store=store, derive_from=material)
    for username, _name, role, idx in STAFF:
        out["staff"].append({"username": username, "password": PASSWORD, "role": role.value,
                             "store_id": stores[idx].id if idx is not None else None})
    cheesecake = db.session.execute(sa.select(Sku).join(Product).where(
        Product.merchant_id == merchant.id, Product.image == "img/products/cheesecake.png")).scalars().first()
    out["presales"] = presale_demo.load(merchant, stores[0], cheesecake)
    demo_vouchers = db.session.execute(
        sa.select(Voucher).where(Voucher.merchant_id == merchant.id, Voucher.source == VoucherSource.DEMO)
        .order_by(Voucher.id)).scalars()
    from app.vouchers.links import holder_url
    out["vouchers"] = [{"id": v.id, "title": v.title, "code": codes.pretty(v.code), "holder_url": holder_url(v)}
                       for v in demo_vouchers]
    out["groupbuys"] = [{"id": c.id, "title": c.title, "url": f"/m/{merchant.slug}/g/{c.id}"}
                        for c in _groupbuys(merchant, stores)]
    db.session.flush()
    return out


def _groupbuys(merchant: Merchant, stores: list[Store]) -> list[GroupBuyCampaign]:
    """The demo's group-buys (created once): a 2-person latte team, and a 3-person croissant team with a one-hour
    limit to watch one fail (or end a team's time from the console)."""
    found = list(db.session.execute(sa.select(GroupBuyCampaign).where(GroupBuyCampaign.merchant_id == merchant.id)
                                    .order_by(GroupBuyCampaign.id)).scalars())
    if found:
        return found
    now = now_utc()
    for title, slug, index, price, leader, size, hours, rules in GROUPBUYS:
        sku = db.session.execute(sa.select(Sku).join(Product).where(
            Product.merchant_id == merchant.id, Product.image == f"img/products/{slug}.png").order_by(Sku.id)
        ).scalars().all()[index]
        campaign = GroupBuyCampaign(merchant_id=merchant.id, sku_id=sku.id, title=title, group_price_fen=price,
                            leader_price_fen=leader, team_size=size, time_limit_hours=hours,
                            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=90), stock_left=200,
                            per_member_limit=3, rules=rules, status=CampaignStatus.ACTIVE,
                            store_links=[GroupBuyCampaignStore(store_id=s.id) for s in stores])
        db.session.add(campaign)
        found.append(campaign)
    db.session.flush()
    return found


def _create() -> Merchant:
    merchant = Merchant(name="拾光咖啡烘焙", slug=SLUG)
    db.session.add(merchant)
    db.session.flush()
    stores = []
    for name, address, lat, lng, phone, radius in STORES:
        store = Store(merchant_id=merchant.id, name=name, city="上海", address=address, latitude=lat, longitude=lng,
                      opens_at=time(7, 30), closes_at=time(21, 30), phone=phone, delivery_radius_m=radius)
        db.session.add(store)
        stores.append(store)
    cats = {}
    for i, name in enumerate(CATEGORIES):
        cats[name] = Category(merchant_id=merchant.id, name=name, sort=i)
        db.session.add(cats[name])
    db.session.flush()
    for slug, name, cat, desc, featured, skus in PRODUCTS:
        product = Product(merchant_id=merchant.id, category_id=cats[cat].id, name=name, description=desc,
                          image=f"img/products/{slug}.png", featured=featured)
        product.skus = [Sku(name=n, price_fen=p, member_price_fen=m, code=f"{slug.upper()}-{i + 1}")
                        for i, (n, p, m) in enumerate(skus)]
        if slug in TOP_VIEWS:  # a second photo for the gallery: the drink seen from above
            product.photos = [ProductPhoto(position=1, image=f"img/products/{slug}-top.png")]
        db.session.add(product)
    db.session.flush()
    sku_ids = db.session.execute(sa.select(Sku.id).order_by(Sku.id)).scalars().all()
    for s_index, store in enumerate(stores):
        for k_index, sku_id in enumerate(sku_ids):
            db.session.add(StoreStock(store_id=store.id, sku_id=sku_id, quantity=(5 + 7 * s_index + 3 * k_index) % 40))
    for username, name, role, idx in STAFF:
        add_staff(merchant, name=name, username=username, password=PASSWORD, role=role,
                  store=stores[idx] if idx is not None else None)
    for nickname in DEMO_MEMBERS:
        demo_member(merchant.id, nickname)
    for title, handover, uses, interval, value in VOUCHERS:
        vouchers.issue(merchant, title=title, handover=handover, uses=uses, min_interval_seconds=interval,
                       value_fen=value, valid_days=90, source=VoucherSource.DEMO, note="演示券")
    db.session.flush()
    return merchant


