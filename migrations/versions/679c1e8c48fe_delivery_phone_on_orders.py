"""delivery phone on orders

Revision ID: 679c1e8c48fe
Revises: 518a97cd6ed9
Create Date: 2026-11-23 04:56:02.467895

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '679c1e8c48fe'
down_revision = '518a97cd6ed9'
branch_labels = None
depends_on = None


def upgrade():
    # Delivery orders carry the number the store calls; earlier orders have none.
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_phone', sa.String(length=20), nullable=True))



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('delivery_phone')

