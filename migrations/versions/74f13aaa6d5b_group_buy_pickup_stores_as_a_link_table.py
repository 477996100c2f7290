"""group-buy pickup stores as a link table

A campaign's pickup stores were a comma string, groupbuy_campaigns.store_ids ("1,2,3"), that no foreign key
checked and that only a LIKE could search. They become rows of groupbuy_campaign_stores (campaign, store),
copied from the string in SQL (so `flask db upgrade --sql` works too), keeping only ids that are stores of
the campaign's own merchant; then the string is dropped.

Revision ID: 74f13aaa6d5b
Revises: b5504a17fa53
Create Date: 2026-11-30 19:44:37.804737

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '74f13aaa6d5b'
down_revision = 'b5504a17fa53'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('groupbuy_campaign_stores',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['groupbuy_campaigns.id'], name=op.f('fk_groupbuy_campaign_stores_campaign_id_groupbuy_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_groupbuy_campaign_stores_store_id_stores')),
    sa.PrimaryKeyConstraint('campaign_id', 'store_id', name=op.f('pk_groupbuy_campaign_stores'))
    )
    with op.batch_alter_table('groupbuy_campaign_stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groupbuy_campaign_stores_store_id'), ['store_id'], unique=False)

    # One link per store of the campaign's merchant whose id is an element of the string: ",1,2," contains
    # ",2," (spaces dropped first). Ids of no store, or of another merchant's store, are left behind.
    # `||`, REPLACE, CAST and LIKE mean the same on SQLite and PostgreSQL.
    op.execute("""
        INSERT INTO groupbuy_campaign_stores (campaign_id, store_id)
        SELECT c.id, s.id FROM groupbuy_campaigns c JOIN stores s ON s.merchant_id = c.merchant_id
        WHERE ',' || REPLACE(c.store_ids, ' ', '') || ',' LIKE '%,' || CAST(s.id AS VARCHAR(20)) || ',%'
    """)

    with op.batch_alter_table('groupbuy_campaigns', schema=None) as batch_op:
        batch_op.drop_column('store_ids')


def downgrade():
    # The string again, from the links ("" for a campaign without any), in ascending order of store id.
    with op.batch_alter_table('groupbuy_campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('store_ids', sa.VARCHAR(length=255), nullable=True))
    if op.get_context().dialect.name == "postgresql":
        joined = "string_agg(CAST(l.store_id AS VARCHAR(20)), ',' ORDER BY l.store_id)"
        links = "groupbuy_campaign_stores l"
    else:  # SQLite's group_concat follows the order of an ordered subquery
        joined = "group_concat(l.store_id, ',')"
        links = "(SELECT * FROM groupbuy_campaign_stores ORDER BY campaign_id, store_id) l"
    op.execute(f"""
        UPDATE groupbuy_campaigns SET store_ids = COALESCE(
            (SELECT {joined} FROM {links} WHERE l.campaign_id = groupbuy_campaigns.id), '')
    """)
    with op.batch_alter_table('groupbuy_campaigns', schema=None) as batch_op:
        batch_op.alter_column('store_ids', existing_type=sa.VARCHAR(length=255), nullable=False)

    with op.batch_alter_table('groupbuy_campaign_stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groupbuy_campaign_stores_store_id'))

    op.drop_table('groupbuy_campaign_stores')
