"""PostgreSQL-only behaviour of the store (collected only when GONGXIN_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import credit.db
from credit.facts import apply_facts
from tests.factories import make_entity, penalty


def test_bulk_load_keeps_statistics_fresh(pg_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within one big transaction the planner must see the table grow (autovacuum cannot)."""
    monkeypatch.setattr(credit.db, "ANALYZE_MIN_ROWS", 50)
    eid = make_entity(pg_session, 14)
    apply_facts(pg_session, [penalty(eid, f"P{i}") for i in range(400)])
    tuples = pg_session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'fact'")).scalar_one()
    assert tuples >= 400

