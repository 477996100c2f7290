"""a refund asked again names the refused one it replaces

refunds.retry_of_id: set on the refund a person sent again (console: 重试退款) for one the provider refused
for good; unique, so a refused refund is sent again once. No backfill: a group-buy refund retried before this
revision is not linked to the one it replaced, and the console then guards it as before, by what is left
of its payment.

Revision ID: 68f81dad4e27
Revises: b1fbcbbdd979
Create Date: 2026-11-30 19:48:26.506960

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '68f81dad4e27'
down_revision = 'b1fbcbbdd979'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_of_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_refunds_retry_of_id'), ['retry_of_id'])
        batch_op.create_foreign_key(batch_op.f('fk_refunds_retry_of_id_refunds'), 'refunds', ['retry_of_id'], ['id'])


def downgrade():
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_refunds_retry_of_id_refunds'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_refunds_retry_of_id'), type_='unique')
        batch_op.drop_column('retry_of_id')
