"""双随机 inspection plans: the item list, the inspector register, plans with their draw, tasks

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('inspection_item',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('basis', sa.String(length=2000), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_item')),
    sa.UniqueConstraint('code', name=op.f('uq_inspection_item_code'))
    )
    op.create_table('inspector',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('division_code', sa.String(length=6), nullable=True),
    sa.Column('declared_ties', JSON, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspector'))
    )
    op.create_index(op.f('ix_inspector_agency_id'), 'inspector', ['agency_id'], unique=False)
    op.create_table('inspection_plan',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('filters', JSON, nullable=False),
    sa.Column('ratios', JSON, nullable=False),
    sa.Column('rules', JSON, nullable=False),
    sa.Column('item_codes', JSON, nullable=False),
    sa.Column('seed_commitment', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.Column('snapshot', sa.Text(), nullable=True),
    sa.Column('snapshot_hash', sa.String(length=64), nullable=True),
    sa.Column('snapshot_on', sa.Date(), nullable=True),
    sa.Column('result', JSON, nullable=True),
    sa.Column('result_hash', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_plan'))
    )
    op.create_table('inspection_task',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('plan_id', BIG_ID, nullable=False),
    sa.Column('entity_id', BIG_ID, nullable=False),
    sa.Column('stratum', sa.String(length=32), nullable=False),
    sa.Column('inspector_ids', JSON, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=True),
    sa.Column('result', sa.String(length=2000), nullable=True),
    sa.Column('result_on', sa.Date(), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_inspection_task_entity_id_entity')),
    sa.ForeignKeyConstraint(['plan_id'], ['inspection_plan.id'],
                            name=op.f('fk_inspection_task_plan_id_inspection_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_task')),
    sa.UniqueConstraint('plan_id', 'entity_id', name=op.f('uq_inspection_task_plan_id_entity_id'))
    )
    op.create_index(op.f('ix_inspection_task_entity_id'), 'inspection_task', ['entity_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inspection_task_entity_id'), table_name='inspection_task')
    op.drop_table('inspection_task')
    op.drop_table('inspection_plan')
    op.drop_index(op.f('ix_inspector_agency_id'), table_name='inspector')
    op.drop_table('inspector')
    op.drop_table('inspection_item')
