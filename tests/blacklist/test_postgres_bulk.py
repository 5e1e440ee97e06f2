"""Bulk dumps on PostgreSQL only (collected only when GONGXIN_TEST_DATABASE_URL is set)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from blacklist.bulk import BulkError, export_bulk
from tests.blacklist.test_bulk import DAY


def test_a_session_already_in_a_transaction_is_refused(pg_session: Session, tmp_path: Path) -> None:
    """REPEATABLE READ can only be chosen before the transaction's first statement."""
    pg_session.execute(select(1))
    with pytest.raises(BulkError, match="REPEATABLE READ"):
        export_bulk(pg_session, tmp_path / "bulk", DAY)
