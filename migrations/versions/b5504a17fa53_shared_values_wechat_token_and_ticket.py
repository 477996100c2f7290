"""shared values (WeChat token and ticket)

Values every worker and machine shares with an expiry (app.core.shared_values): the official account's
access token and jsapi ticket, which were kept per worker.

Revision ID: b5504a17fa53
Revises: 68f81dad4e27
Create Date: 2026-11-30 19:44:47.701755

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5504a17fa53'
down_revision = '68f81dad4e27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shared_values',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_shared_values'))
    )


def downgrade():
    op.drop_table('shared_values')
