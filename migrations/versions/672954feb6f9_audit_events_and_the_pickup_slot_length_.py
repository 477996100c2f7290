"""audit events and the pickup slot length for the merchant console

Revision ID: 672954feb6f9
Revises: fc8dd296729e
Create Date: 2026-11-30 14:52:19.639635

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '672954feb6f9'
down_revision = 'fc8dd296729e'
branch_labels = None
depends_on = None


def upgrade():
    # The console's audit log: append-only, one row per change, listed per merchant newest first.
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=24), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('ip', sa.String(length=45), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_audit_events_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_audit_events_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_merchant_created', ['merchant_id', 'created_at'], unique=False)

    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pickup_slot_minutes', sa.Integer(), server_default='30', nullable=False))
        batch_op.create_check_constraint('pickup_slot_minutes_divides_hour', 'pickup_slot_minutes IN (15, 20, 30, 60)')


def downgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_merchants_pickup_slot_minutes_divides_hour'), type_='check')
        batch_op.drop_column('pickup_slot_minutes')

    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_merchant_created')

    op.drop_table('audit_events')
