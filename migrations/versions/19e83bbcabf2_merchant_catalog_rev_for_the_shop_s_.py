"""merchant catalog rev for the shop's catalog snapshots

Revision ID: 19e83bbcabf2
Revises: cd881a528e50
Create Date: 2026-11-23 04:08:45.218251

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '19e83bbcabf2'
down_revision = 'cd881a528e50'
branch_labels = None
depends_on = None


def upgrade():
    # Existing merchants start at rev 0; the first catalog change gives them a random one.
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('catalog_rev', sa.BigInteger(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('merchants', schema=None) as batch_op:
        batch_op.drop_column('catalog_rev')

