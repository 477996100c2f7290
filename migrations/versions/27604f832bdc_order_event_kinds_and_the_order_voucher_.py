"""order event kinds and the order-voucher link

Revision ID: 27604f832bdc
Revises: 602b247419aa
Create Date: 2026-11-30 14:15:57.343568

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27604f832bdc'
down_revision = '602b247419aa'
branch_labels = None
depends_on = None


def upgrade():
    # The typed link from a voucher to the order it hands over (replaces parsing vouchers.source_ref).
    op.create_table('order_vouchers',
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_vouchers_order_id_orders')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_order_vouchers_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('voucher_id', name=op.f('pk_order_vouchers')),
    sa.UniqueConstraint('order_id', 'generation', name=op.f('uq_order_vouchers_order_id_generation'))
    )
    with op.batch_alter_table('order_vouchers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_vouchers_order_id'), ['order_id'], unique=False)

    # Existing pickup vouchers name their order in source_ref ("order:<id>:<generation>"): read once, here,
    # in SQL (so `flask db upgrade --sql` works too).
    if op.get_context().dialect.name == "postgresql":
        op.execute("""
            INSERT INTO order_vouchers (voucher_id, order_id, generation)
            SELECT id, CAST(split_part(source_ref, ':', 2) AS INTEGER), CAST(split_part(source_ref, ':', 3) AS INTEGER)
            FROM vouchers WHERE source = 'order' AND source_ref LIKE 'order:%'
        """)
    else:
        op.execute("""
            INSERT INTO order_vouchers (voucher_id, order_id, generation)
            SELECT id, CAST(substr(rest, 1, instr(rest, ':') - 1) AS INTEGER),
                   CAST(substr(rest, instr(rest, ':') + 1) AS INTEGER)
            FROM (SELECT id, substr(source_ref, 7) AS rest FROM vouchers
                  WHERE source = 'order' AND source_ref LIKE 'order:%')
        """)

    # Each event's kind, from what the old rows said in their status and note.
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=24), nullable=True))
    op.execute("""
        UPDATE order_events SET kind = CASE
            WHEN status_before IS NULL THEN 'placed'
            WHEN status_after = 'ready' AND status_before = 'picked_up' THEN 'pickup_undone'
            WHEN status_after = 'ready' AND note = '到店支付' THEN 'pay_at_store'
            WHEN status_after = 'ready' THEN 'paid'
            WHEN status_after = 'picked_up' THEN 'picked_up'
            WHEN status_after = 'cancelled' AND note LIKE '超时未支付%' THEN 'expired'
            WHEN status_after = 'cancelled' THEN 'cancelled'
            WHEN status_after = 'refunded' THEN 'refunded'
            ELSE 'completed' END
    """)
    # The fixed notes are now said by the kind; the free ones (a person's reason) stay.
    op.execute("UPDATE order_events SET note = '' WHERE note IN ('已支付', '到店支付', '门店核销', '撤销核销')")
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.alter_column('kind', existing_type=sa.String(length=24), nullable=False,
                              type_=sa.Enum('placed', 'paid', 'pay_at_store', 'picked_up', 'pickup_undone', 'cancelled',
                                            'expired', 'refunded', 'completed', name='order_event_kind',
                                            native_enum=False, create_constraint=True, length=24))


def downgrade():
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_order_events_order_event_kind'), type_='check')
        batch_op.drop_column('kind')

    with op.batch_alter_table('order_vouchers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_vouchers_order_id'))

    op.drop_table('order_vouchers')
