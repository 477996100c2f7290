"""pre-sale campaigns and their orders; orders paid in two parts

Revision ID: 6fd11324041d
Revises: 0ebd6eeccc41
Create Date: 2026-11-30 17:07:11.819060

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6fd11324041d'
down_revision = '0ebd6eeccc41'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('presale_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('full_price_fen', sa.Integer(), nullable=False),
    sa.Column('deposit_fen', sa.Integer(), nullable=False),
    sa.Column('deposit_value_fen', sa.Integer(), nullable=False),
    sa.Column('deposit_starts_at', sa.DateTime(), nullable=False),
    sa.Column('deposit_ends_at', sa.DateTime(), nullable=False),
    sa.Column('balance_starts_at', sa.DateTime(), nullable=False),
    sa.Column('balance_ends_at', sa.DateTime(), nullable=False),
    sa.Column('pickup_from', sa.DateTime(), nullable=True),
    sa.Column('pickup_after_days', sa.Integer(), nullable=True),
    sa.Column('stock_total', sa.Integer(), nullable=False),
    sa.Column('stock_left', sa.Integer(), nullable=False),
    sa.Column('per_member_limit', sa.Integer(), server_default='1', nullable=False),
    sa.Column('missed_balance', sa.Enum('forfeit', 'refund', name='presale_missed_balance', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('coupons_on_balance', sa.Boolean(), server_default=sa.text('(false)'), nullable=False),
    sa.Column('rules', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'ended', name='presale_campaign_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(pickup_from IS NULL) <> (pickup_after_days IS NULL)', name=op.f('ck_presale_campaigns_one_pickup_rule')),
    sa.CheckConstraint('balance_starts_at < balance_ends_at', name=op.f('ck_presale_campaigns_balance_window')),
    sa.CheckConstraint('deposit_ends_at <= balance_starts_at', name=op.f('ck_presale_campaigns_deposit_before_balance')),
    sa.CheckConstraint('deposit_fen > 0', name=op.f('ck_presale_campaigns_deposit_positive')),
    sa.CheckConstraint('deposit_starts_at < deposit_ends_at', name=op.f('ck_presale_campaigns_deposit_window')),
    sa.CheckConstraint('deposit_value_fen < full_price_fen', name=op.f('ck_presale_campaigns_value_below_price')),
    sa.CheckConstraint('deposit_value_fen >= deposit_fen', name=op.f('ck_presale_campaigns_value_at_least_deposit')),
    sa.CheckConstraint('per_member_limit >= 1', name=op.f('ck_presale_campaigns_per_member_limit_positive')),
    sa.CheckConstraint('pickup_after_days IS NULL OR pickup_after_days >= 0', name=op.f('ck_presale_campaigns_pickup_days_nonneg')),
    sa.CheckConstraint('stock_left >= 0 AND stock_left <= stock_total', name=op.f('ck_presale_campaigns_stock_range')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_presale_campaigns_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_presale_campaigns_sku_id_skus')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_presale_campaigns_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presale_campaigns'))
    )
    with op.batch_alter_table('presale_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_presale_campaigns_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('presale_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('placed', 'deposit_paid', 'balance_paid', 'missed', 'cancelled', name='presale_order_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('announced_at', sa.DateTime(), nullable=True),
    sa.Column('missed_rule', sa.Enum('forfeit', 'refund', name='presale_missed_rule', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_presale_orders_quantity_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['presale_campaigns.id'], name=op.f('fk_presale_orders_campaign_id_presale_campaigns')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_presale_orders_member_id_members')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_presale_orders_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presale_orders')),
    sa.UniqueConstraint('order_id', name=op.f('uq_presale_orders_order_id'))
    )
    with op.batch_alter_table('presale_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_presale_orders_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_presale_orders_campaign_status', ['campaign_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_presale_orders_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit_fen', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('hand_over_from', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_orders_deposit_range'), sa.text(
            "deposit_fen IS NULL OR (deposit_fen > 0 AND deposit_fen <= total_fen)"))
        batch_op.drop_constraint(batch_op.f('ck_orders_order_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_orders_order_status'), sa.text(
            "status IN ('pending_payment', 'grouping', 'deposit_paid', 'ready', 'picked_up', 'completed', 'cancelled', "
            "'refunded')"))
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_events_order_event_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_order_events_order_event_kind'), sa.text(
            "kind IN ('placed', 'paid', 'pay_at_store', 'picked_up', 'pickup_undone', 'cancelled', 'expired', "
            "'refunded', 'completed', 'grouped', 'deposit_paid')"))



def downgrade():
    # An order still waiting for its balance has no voucher: it counts as cancelled (its deposit is kept
    # in the payments table, for a person to settle); its history's deposit event reads as a payment.
    op.execute("UPDATE orders SET status = 'cancelled' WHERE status = 'deposit_paid'")
    op.execute("UPDATE order_events SET kind = 'paid' WHERE kind = 'deposit_paid'")
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_events_order_event_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_order_events_order_event_kind'), sa.text(
            "kind IN ('placed', 'paid', 'pay_at_store', 'picked_up', 'pickup_undone', 'cancelled', 'expired', "
            "'refunded', 'completed', 'grouped')"))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_orders_order_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_orders_order_status'), sa.text(
            "status IN ('pending_payment', 'grouping', 'ready', 'picked_up', 'completed', 'cancelled', 'refunded')"))
        batch_op.drop_constraint(batch_op.f('ck_orders_deposit_range'), type_='check')
        batch_op.drop_column('hand_over_from')
        batch_op.drop_column('deposit_fen')

    with op.batch_alter_table('presale_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_presale_orders_member_id'))
        batch_op.drop_index('ix_presale_orders_campaign_status')
        batch_op.drop_index(batch_op.f('ix_presale_orders_campaign_id'))

    op.drop_table('presale_orders')
    with op.batch_alter_table('presale_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_presale_campaigns_merchant_id'))

    op.drop_table('presale_campaigns')
