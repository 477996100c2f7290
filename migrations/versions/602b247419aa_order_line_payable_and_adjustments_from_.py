"""order line payable and adjustments from the price quote

Revision ID: 602b247419aa
Revises: 679c1e8c48fe
Create Date: 2026-11-30 14:09:55.511530

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '602b247419aa'
down_revision = '679c1e8c48fe'
branch_labels = None
depends_on = None


def upgrade():
    # What took each order line below its list price (member price now; coupons, group prices later).
    op.create_table('order_line_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('member_price', 'coupon', 'group_price', 'presale_deposit', name='adjustment_kind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_order_line_adjustments_amount_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_order_line_adjustments_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line_adjustments'))
    )
    with op.batch_alter_table('order_line_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_adjustments_order_line_id'), ['order_line_id'], unique=False)

    # The line's total after every adjustment. Existing lines had only the member price, frozen as the unit
    # price: their payable is unit × quantity, and the member price took (list − unit) × quantity off.
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payable_fen', sa.Integer(), nullable=True))
    op.execute("UPDATE order_lines SET payable_fen = unit_price_fen * quantity")
    op.execute(
        "INSERT INTO order_line_adjustments (order_line_id, kind, source, amount_fen)"
        " SELECT id, 'member_price', 'member_price', (list_price_fen - unit_price_fen) * quantity"
        " FROM order_lines WHERE unit_price_fen < list_price_fen ORDER BY id")
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.alter_column('payable_fen', existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(op.f('ck_order_lines_payable_range'),
                                         'payable_fen >= 0 AND payable_fen <= unit_price_fen * quantity')


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_order_lines_payable_range'), type_='check')
        batch_op.drop_column('payable_fen')

    with op.batch_alter_table('order_line_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_adjustments_order_line_id'))

    op.drop_table('order_line_adjustments')
