"""import uploads kept for preview and apply

A CSV file uploaded to the console is kept here between its preview and its apply (both read this copy).

Revision ID: 582a181c0224
Revises: 9d47d6169dff
Create Date: 2026-11-30 16:30:47.196836

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '582a181c0224'
down_revision = '9d47d6169dff'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('filename', sa.String(length=255), server_default='', nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_import_uploads_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_import_uploads_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_uploads'))
    )
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_uploads_merchant_id'), ['merchant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('import_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_uploads_merchant_id'))

    op.drop_table('import_uploads')
