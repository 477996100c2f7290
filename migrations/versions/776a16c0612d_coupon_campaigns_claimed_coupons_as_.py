"""coupon campaigns, claimed coupons as vouchers, per-member claim counters, counter redemptions, gifts

Revision ID: 776a16c0612d
Revises: 582a181c0224
Create Date: 2026-11-30 16:51:37.629770

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '776a16c0612d'
down_revision = '582a181c0224'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('rules_text', sa.String(length=500), server_default='', nullable=False),
    sa.Column('type', sa.Enum('cash_off', 'threshold', 'percent', 'exchange', 'punch', name='campaign_type', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('value_fen', sa.Integer(), nullable=True),
    sa.Column('threshold_fen', sa.Integer(), nullable=True),
    sa.Column('percent_off', sa.Integer(), nullable=True),
    sa.Column('cap_fen', sa.Integer(), nullable=True),
    sa.Column('sku_id', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), server_default='1', nullable=False),
    sa.Column('min_interval_minutes', sa.Integer(), nullable=True),
    sa.Column('quota', sa.Integer(), nullable=True),
    sa.Column('claimed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('per_member', sa.Integer(), nullable=True),
    sa.Column('per_member_per_day', sa.Integer(), nullable=True),
    sa.Column('claim_starts_at', sa.DateTime(), nullable=True),
    sa.Column('claim_ends_at', sa.DateTime(), nullable=True),
    sa.Column('valid_from', sa.DateTime(), nullable=True),
    sa.Column('valid_until', sa.DateTime(), nullable=True),
    sa.Column('days_after_claim', sa.Integer(), nullable=True),
    sa.Column('all_stores', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('all_products', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('online', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('counter', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('with_member_price', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('transferable', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'paused', 'ended', name='campaign_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('request_no', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(days_after_claim IS NULL) <> (valid_until IS NULL)', name=op.f('ck_campaigns_one_validity')),
    sa.CheckConstraint('cap_fen IS NULL OR cap_fen > 0', name=op.f('ck_campaigns_cap_positive')),
    sa.CheckConstraint('claimed >= 0 AND (quota IS NULL OR claimed <= quota)', name=op.f('ck_campaigns_claimed_within_quota')),
    sa.CheckConstraint('days_after_claim IS NULL OR days_after_claim >= 1', name=op.f('ck_campaigns_days_positive')),
    sa.CheckConstraint('per_member IS NULL OR per_member >= 1', name=op.f('ck_campaigns_per_member_positive')),
    sa.CheckConstraint('per_member_per_day IS NULL OR per_member_per_day >= 1', name=op.f('ck_campaigns_per_day_positive')),
    sa.CheckConstraint('percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 99)', name=op.f('ck_campaigns_percent_range')),
    sa.CheckConstraint('quota IS NULL OR quota >= 0', name=op.f('ck_campaigns_quota_nonneg')),
    sa.CheckConstraint('threshold_fen IS NULL OR threshold_fen > 0', name=op.f('ck_campaigns_threshold_positive')),
    sa.CheckConstraint('uses >= 1', name=op.f('ck_campaigns_uses_positive')),
    sa.CheckConstraint('value_fen IS NULL OR value_fen > 0', name=op.f('ck_campaigns_value_positive')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_campaigns_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_campaigns_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('merchant_id', 'request_no', name=op.f('uq_campaigns_merchant_id_request_no'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('campaign_categories',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_categories_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_campaign_categories_category_id_categories')),
    sa.PrimaryKeyConstraint('campaign_id', 'category_id', name=op.f('pk_campaign_categories'))
    )
    op.create_table('campaign_member_claims',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('claimed', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('day_claimed', sa.Integer(), nullable=False),
    sa.CheckConstraint('claimed >= 1', name=op.f('ck_campaign_member_claims_claimed_positive')),
    sa.CheckConstraint('day_claimed >= 1 AND day_claimed <= claimed', name=op.f('ck_campaign_member_claims_day_claimed_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_member_claims_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_campaign_member_claims_member_id_members')),
    sa.PrimaryKeyConstraint('campaign_id', 'member_id', name=op.f('pk_campaign_member_claims'))
    )
    op.create_table('campaign_products',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_products_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_campaign_products_product_id_products')),
    sa.PrimaryKeyConstraint('campaign_id', 'product_id', name=op.f('pk_campaign_products'))
    )
    op.create_table('campaign_stores',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_stores_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_campaign_stores_store_id_stores')),
    sa.PrimaryKeyConstraint('campaign_id', 'store_id', name=op.f('pk_campaign_stores'))
    )
    op.create_table('coupons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('request_no', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_coupons_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_coupons_member_id_members')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_coupons_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupons_order_id_orders')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_coupons_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('campaign_id', 'request_no', name=op.f('uq_coupons_campaign_id_request_no')),
    sa.UniqueConstraint('voucher_id', name=op.f('uq_coupons_voucher_id'))
    )
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupons_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_order_id'), ['order_id'], unique=False)

    op.create_table('coupon_gifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=False),
    sa.Column('giver_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'returned', name='gift_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('receiver_id', sa.Integer(), nullable=True),
    sa.Column('new_coupon_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status <> 'accepted' OR (receiver_id IS NOT NULL AND new_coupon_id IS NOT NULL)", name=op.f('ck_coupon_gifts_accepted_has_receiver')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_gifts_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['giver_id'], ['members.id'], name=op.f('fk_coupon_gifts_giver_id_members')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_coupon_gifts_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['new_coupon_id'], ['coupons.id'], name=op.f('fk_coupon_gifts_new_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['receiver_id'], ['members.id'], name=op.f('fk_coupon_gifts_receiver_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_gifts')),
    sa.UniqueConstraint('coupon_id', name=op.f('uq_coupon_gifts_coupon_id')),
    sa.UniqueConstraint('token', name=op.f('uq_coupon_gifts_token'))
    )
    with op.batch_alter_table('coupon_gifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_gifts_giver_id'), ['giver_id'], unique=False)
        batch_op.create_index('ix_coupon_gifts_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('coupon_redemptions',
    sa.Column('redemption_id', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=True),
    sa.Column('discount_fen', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_fen IS NULL OR (amount_fen >= 0 AND discount_fen <= amount_fen)', name=op.f('ck_coupon_redemptions_discount_within_amount')),
    sa.CheckConstraint('discount_fen IS NULL OR discount_fen >= 0', name=op.f('ck_coupon_redemptions_discount_nonneg')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_redemptions_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_coupon_redemptions_redemption_id_redemptions')),
    sa.PrimaryKeyConstraint('redemption_id', name=op.f('pk_coupon_redemptions'))
    )
    with op.batch_alter_table('coupon_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_redemptions_coupon_id'), ['coupon_id'], unique=False)



def downgrade():
    with op.batch_alter_table('coupon_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_redemptions_coupon_id'))

    op.drop_table('coupon_redemptions')
    with op.batch_alter_table('coupon_gifts', schema=None) as batch_op:
        batch_op.drop_index('ix_coupon_gifts_status_expires')
        batch_op.drop_index(batch_op.f('ix_coupon_gifts_giver_id'))

    op.drop_table('coupon_gifts')
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupons_order_id'))
        batch_op.drop_index(batch_op.f('ix_coupons_member_id'))
        batch_op.drop_index(batch_op.f('ix_coupons_campaign_id'))

    op.drop_table('coupons')
    op.drop_table('campaign_stores')
    op.drop_table('campaign_products')
    op.drop_table('campaign_member_claims')
    op.drop_table('campaign_categories')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_merchant_id'))

    op.drop_table('campaigns')
