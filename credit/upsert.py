"""Dialect-aware INSERT … ON CONFLICT, so bulk writes read the same on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring(session: Session, table: Table, elements: list[str] | None) -> Any:
    """An INSERT that skips rows already present (a concurrent writer's, or a retried batch).

    With ``elements`` the conflict is on that unique key; without, on any unique key.
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=elements)


def update_by_id(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Executemany ``UPDATE … WHERE id = :_id`` of the columns named in the rows (all alike)."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != "_id"]
    # Parameter names must differ from column names in an UPDATE's SET clause.
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )
    params = [{"_id": r["_id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
    session.connection().execute(stmt, params)
