"""credit repairs of penalties, kept apart from the facts a source re-sends

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# One active repair per fact: a partial unique index, which SQLite and PostgreSQL both support.
ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_table('credit_repair',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('fact_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('repaired_on', sa.Date(), nullable=False),
    sa.Column('decision_no', sa.String(length=200), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.String(length=64), nullable=False),
    sa.Column('conditions', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['fact_id'], ['fact.id'], name=op.f('fk_credit_repair_fact_id_fact')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_repair'))
    )
    with op.batch_alter_table('credit_repair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_repair_fact_id'), ['fact_id'], unique=False)
        batch_op.create_index('uq_credit_repair_active_fact', ['fact_id'], unique=True,
                              sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    with op.batch_alter_table('credit_repair', schema=None) as batch_op:
        batch_op.drop_index('uq_credit_repair_active_fact')
        batch_op.drop_index(batch_op.f('ix_credit_repair_fact_id'))

    op.drop_table('credit_repair')
