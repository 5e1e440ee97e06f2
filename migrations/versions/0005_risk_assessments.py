"""credit risk assessments (regulators only) and the runs that made them

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('risk_assessment',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('entity_id', BIG_ID, nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('risk_class', sa.String(length=2), nullable=False),
    sa.Column('explanation', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entity_id'], ['entity.id'], name=op.f('fk_risk_assessment_entity_id_entity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_assessment'))
    )
    op.create_index('ix_risk_assessment_entity_latest', 'risk_assessment', ['entity_id', 'id'], unique=False)
    op.create_table('risk_run',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('policy_version', sa.String(length=40), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('assessed', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_run'))
    )


def downgrade() -> None:
    op.drop_table('risk_run')
    op.drop_index('ix_risk_assessment_entity_latest', table_name='risk_assessment')
    op.drop_table('risk_assessment')
