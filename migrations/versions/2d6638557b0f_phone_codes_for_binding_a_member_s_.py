"""phone codes for binding a member's phone number

Revision ID: 2d6638557b0f
Revises: 19e83bbcabf2
Create Date: 2026-11-23 04:42:46.781657

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2d6638557b0f'
down_revision = '19e83bbcabf2'
branch_labels = None
depends_on = None


def upgrade():
    # Text-message codes for binding a phone number: only an HMAC of each code is stored.
    op.create_table('phone_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_mac', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('attempts BETWEEN 0 AND 5', name=op.f('ck_phone_codes_attempts_range')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_phone_codes_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_codes'))
    )
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_codes_member_id'), ['member_id'], unique=False)



def downgrade():
    with op.batch_alter_table('phone_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_phone_codes_member_id'))

    op.drop_table('phone_codes')
