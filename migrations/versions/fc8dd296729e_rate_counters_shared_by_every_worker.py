"""rate counters shared by every worker

Revision ID: fc8dd296729e
Revises: 27604f832bdc
Create Date: 2026-11-30 14:10:43.966894

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fc8dd296729e'
down_revision = '27604f832bdc'
branch_labels = None
depends_on = None


def upgrade():
    # Wrong-code and text tries counted per fixed window when there is no Redis (or while it is down):
    # one row per (key, window), incremented by INSERT ... ON CONFLICT DO UPDATE (app/core/rate_counters.py).
    op.create_table('rate_counters',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('window_start', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.CheckConstraint('hits >= 0', name=op.f('ck_rate_counters_hits_nonneg')),
    sa.PrimaryKeyConstraint('key', 'window_start', name=op.f('pk_rate_counters'))
    )
    # Ended windows are deleted by expiry.
    op.create_index(op.f('ix_rate_counters_expires_at'), 'rate_counters', ['expires_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_rate_counters_expires_at'), table_name='rate_counters')
    op.drop_table('rate_counters')
