"""vouchers name the voucher they replace

Revision ID: 9d47d6169dff
Revises: 562bce19c35d
Create Date: 2026-11-30 16:29:56.639421

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d47d6169dff'
down_revision = '562bce19c35d'
branch_labels = None
depends_on = None


def upgrade():
    # A reissued voucher names the voucher it replaces; existing vouchers replace none (NULL), so no backfill.
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_vouchers_replaces_id'), ['replaces_id'])
        batch_op.create_foreign_key(batch_op.f('fk_vouchers_replaces_id_vouchers'), 'vouchers', ['replaces_id'], ['id'])


def downgrade():
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_vouchers_replaces_id_vouchers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_vouchers_replaces_id'), type_='unique')
        batch_op.drop_column('replaces_id')
