"""product photos for the product page gallery

Revision ID: 518a97cd6ed9
Revises: 2d6638557b0f
Create Date: 2026-11-23 04:48:51.259503

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '518a97cd6ed9'
down_revision = '2d6638557b0f'
branch_labels = None
depends_on = None


def upgrade():
    # Further photos of a product, after its cover (products.image), in gallery order.
    op.create_table('product_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('image', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_photos_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_photos')),
    sa.UniqueConstraint('product_id', 'position', name=op.f('uq_product_photos_product_id_position'))
    )
    with op.batch_alter_table('product_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_photos_product_id'), ['product_id'], unique=False)



def downgrade():
    with op.batch_alter_table('product_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_photos_product_id'))

    op.drop_table('product_photos')
