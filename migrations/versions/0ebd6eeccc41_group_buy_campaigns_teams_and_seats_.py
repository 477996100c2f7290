"""group-buy campaigns, teams and seats; group-buy orders wait in grouping

Revision ID: 0ebd6eeccc41
Revises: 776a16c0612d
Create Date: 2026-11-30 16:50:42.360239

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0ebd6eeccc41'
down_revision = '776a16c0612d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('groupbuy_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('group_price_fen', sa.Integer(), nullable=False),
    sa.Column('leader_price_fen', sa.Integer(), nullable=True),
    sa.Column('team_size', sa.Integer(), nullable=False),
    sa.Column('time_limit_hours', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('stock_left', sa.Integer(), nullable=False),
    sa.Column('per_member_limit', sa.Integer(), server_default='1', nullable=False),
    sa.Column('store_ids', sa.String(length=255), nullable=False),
    sa.Column('rules', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.Enum('draft', 'active', 'ended', name='groupbuy_campaign_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('group_price_fen >= 0', name=op.f('ck_groupbuy_campaigns_group_price_nonneg')),
    sa.CheckConstraint('leader_price_fen IS NULL OR leader_price_fen >= 0', name=op.f('ck_groupbuy_campaigns_leader_price_nonneg')),
    sa.CheckConstraint('per_member_limit >= 1', name=op.f('ck_groupbuy_campaigns_per_member_limit_positive')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_groupbuy_campaigns_starts_before_ends')),
    sa.CheckConstraint('stock_left >= 0', name=op.f('ck_groupbuy_campaigns_stock_nonneg')),
    sa.CheckConstraint('team_size >= 2 AND team_size <= 10', name=op.f('ck_groupbuy_campaigns_team_size_range')),
    sa.CheckConstraint('time_limit_hours >= 1', name=op.f('ck_groupbuy_campaigns_time_limit_positive')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_groupbuy_campaigns_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['sku_id'], ['skus.id'], name=op.f('fk_groupbuy_campaigns_sku_id_skus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_campaigns'))
    )
    with op.batch_alter_table('groupbuy_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupbuy_campaigns_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('groupbuy_teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('leader_member_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False),
    sa.Column('paid_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.Enum('opening', 'forming', 'complete', 'failed', 'closed', name='groupbuy_team_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('deadline_at', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('paid_count >= 0 AND paid_count <= seats_taken AND seats_taken <= size', name=op.f('ck_groupbuy_teams_seats_range')),
    sa.ForeignKeyConstraint(['campaign_id'], ['groupbuy_campaigns.id'], name=op.f('fk_groupbuy_teams_campaign_id_groupbuy_campaigns')),
    sa.ForeignKeyConstraint(['leader_member_id'], ['members.id'], name=op.f('fk_groupbuy_teams_leader_member_id_members')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_groupbuy_teams_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_groupbuy_teams_store_id_stores')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_teams'))
    )
    with op.batch_alter_table('groupbuy_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupbuy_teams_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_groupbuy_teams_status_deadline', ['status', 'deadline_at'], unique=False)

    op.create_table('groupbuy_seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('reserved', 'paid', 'left', 'released', name='groupbuy_seat_status', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_groupbuy_seats_member_id_members')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_groupbuy_seats_order_id_orders')),
    sa.ForeignKeyConstraint(['team_id'], ['groupbuy_teams.id'], name=op.f('fk_groupbuy_seats_team_id_groupbuy_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_groupbuy_seats')),
    sa.UniqueConstraint('order_id', name=op.f('uq_groupbuy_seats_order_id')),
    sa.UniqueConstraint('team_id', 'member_id', name='uq_groupbuy_seats_team_member')
    )
    with op.batch_alter_table('groupbuy_seats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupbuy_seats_member_id'), ['member_id'], unique=False)

    # Orders say what sold them (every existing order came from the cart), and a paid group-buy order waits
    # in 'grouping' for its team; its move to ready is the event kind 'grouped'.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.Enum('regular', 'groupbuy', name='order_kind', native_enum=False, create_constraint=True, length=24), server_default='regular', nullable=False))
        batch_op.drop_constraint(batch_op.f('ck_orders_order_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_orders_order_status'), sa.text(
            "status IN ('pending_payment', 'grouping', 'ready', 'picked_up', 'completed', 'cancelled', 'refunded')"))
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_events_order_event_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_order_events_order_event_kind'), sa.text(
            "kind IN ('placed', 'paid', 'pay_at_store', 'picked_up', 'pickup_undone', 'cancelled', 'expired', "
            "'refunded', 'completed', 'grouped')"))


def downgrade():
    # Group-buy orders become what they would have been without a team: regular orders; one still waiting for
    # its team ('grouping') has no voucher and counts as refunded here (group-buys go with their tables).
    op.execute("UPDATE orders SET status = 'refunded' WHERE status = 'grouping'")
    op.execute("UPDATE order_events SET kind = 'paid' WHERE kind = 'grouped'")
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_events_order_event_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_order_events_order_event_kind'), sa.text(
            "kind IN ('placed', 'paid', 'pay_at_store', 'picked_up', 'pickup_undone', 'cancelled', 'expired', "
            "'refunded', 'completed')"))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_orders_order_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_orders_order_status'), sa.text(
            "status IN ('pending_payment', 'ready', 'picked_up', 'completed', 'cancelled', 'refunded')"))
        batch_op.drop_constraint(batch_op.f('ck_orders_order_kind'), type_='check')
        batch_op.drop_column('kind')

    with op.batch_alter_table('groupbuy_seats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupbuy_seats_member_id'))

    op.drop_table('groupbuy_seats')
    with op.batch_alter_table('groupbuy_teams', schema=None) as batch_op:
        batch_op.drop_index('ix_groupbuy_teams_status_deadline')
        batch_op.drop_index(batch_op.f('ix_groupbuy_teams_campaign_id'))

    op.drop_table('groupbuy_teams')
    with op.batch_alter_table('groupbuy_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupbuy_campaigns_merchant_id'))

    op.drop_table('groupbuy_campaigns')
