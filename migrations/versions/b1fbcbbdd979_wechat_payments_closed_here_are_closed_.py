"""WeChat payments closed here are closed at WeChat too

payments.closed_remote_at: when WeChat's order was closed (or found never made, or found paid and applied);
payments.remote_close_error: WeChat refused the close for good. Both NULL on a closed WeChat payment means
the close at WeChat is still to do.

No backfill on purpose: the WeChat payments closed before this revision were never closed at WeChat (the
gap this fixes). The `payments.close_lost_remote` sweep closes them, 100 every 5 minutes; one WeChat
reports paid is applied and refunded like any late payment. A close of an order WeChat has already closed
(expired) answers 204 and costs nothing.

Revision ID: b1fbcbbdd979
Revises: 6fd11324041d
Create Date: 2026-11-30 19:45:47.328298

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1fbcbbdd979'
down_revision = '6fd11324041d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_remote_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('remote_close_error', sa.String(length=255), nullable=True))
        batch_op.create_check_constraint(
            'remote_close_one_outcome', 'closed_remote_at IS NULL OR remote_close_error IS NULL')


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payments_remote_close_one_outcome'), type_='check')
        batch_op.drop_column('remote_close_error')
        batch_op.drop_column('closed_remote_at')
