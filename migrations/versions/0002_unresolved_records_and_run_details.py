"""unresolved records and run details

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('unresolved_record',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.Column('identity', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('record', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_tried', sa.DateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('entity_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['ingest_run.id'], name=op.f('fk_unresolved_record_run_id_ingest_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unresolved_record')),
    sa.UniqueConstraint('source', 'source_key', name=op.f('uq_unresolved_record_source_source_key'))
    )
    with op.batch_alter_table('unresolved_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unresolved_record_resolved_at'), ['resolved_at'], unique=False)

    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rows_resolved', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('file_mtime', sa.DateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('ingest_run', schema=None) as batch_op:
        batch_op.drop_column('file_mtime')
        batch_op.drop_column('rows_resolved')

    with op.batch_alter_table('unresolved_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unresolved_record_resolved_at'))

    op.drop_table('unresolved_record')
