"""Imports every domain's models so metadata (and Alembic) sees all tables."""
from app.catalog.models import Category, ImportUpload, Product, ProductPhoto, Sku, StoreStock  # noqa: F401
from app.members.models import Member  # noqa: F401
from app.merchants.models import ApiKey, AuditEvent, Merchant, Staff, Store  # noqa: F401
from app.vouchers.models import Redemption, Voucher, VoucherEvent, VoucherStore  # noqa: F401
from app.catalog.models import Review  # noqa: F401
from app.members.models import PhoneCode, PointsEntry  # noqa: F401
from app.orders.models import Order, OrderEvent, OrderLine, OrderVoucher  # noqa: F401
from app.payments.models import Payment, ProcessedNotification, Refund  # noqa: F401
from app.core.rate_counters import RateCounter  # noqa: F401
from app.core.shared_values import SharedValue  # noqa: F401
from app.presales.models import PresaleCampaign, PresaleOrder  # noqa: F401
from app.coupons.models import (  # noqa: F401
    Campaign, CampaignCategory, CampaignProduct, CampaignStore, Coupon, CouponGift, CouponRedemption, MemberClaims,
)
from app.groupbuys.models import GroupBuyCampaign, GroupBuyCampaignStore, Seat, Team  # noqa: F401
