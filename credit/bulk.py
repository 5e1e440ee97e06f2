"""Bulk writes that read the same on both databases: INSERT … ON CONFLICT and UPDATE by id.

SQLite gets the driver's own executemany with values already in the forms SQLAlchemy stores
(SQLAlchemy's per-row parameter processing cost more than SQLite's write). PostgreSQL gets COPY
into a temporary staging table and one set-based statement from it: per-row round trips, even
pipelined, cost several times more than the write itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, Numeric, Row, Table, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from credit.db import chunked, is_postgres

SQLITE_CHUNK = 5000


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
    returning: Sequence[str] = (),
) -> list[Row[Any]]:
    """Insert rows (all with the same keys), skipping those that hit a unique key.

    With ``conflict`` only that key is tolerated, without it any unique key. Returns the
    ``returning`` columns of the rows actually inserted.
    """
    if not rows:
        return []
    rows = _with_defaults(table, rows)
    if is_postgres(session):
        return _pg_insert(session, table, rows, conflict, returning)
    if not returning:
        _sqlite_executemany(session, table, _insert_sql(table, list(rows[0]), conflict), list(rows[0]), rows)
        return []
    stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    stmt = stmt.returning(*(table.c[name] for name in returning))
    found: list[Row[Any]] = []
    for part in chunked(rows, SQLITE_CHUNK):
        found.extend(session.connection().execute(stmt, list(part)))
    return found


def _with_defaults(table: Table, rows: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
    """Add the columns' Python-side defaults (one value per batch), which COPY would not apply."""
    missing = {}
    for column in table.c:
        default = column.default
        if column.name in rows[0] or default is None or not getattr(default, "is_scalar", True) and not getattr(default, "is_callable", False):
            continue
        if default.is_scalar:  # type: ignore[attr-defined]
            missing[column.name] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:  # type: ignore[attr-defined]
            missing[column.name] = default.arg(None)  # type: ignore[attr-defined]
    if not missing:
        return rows
    return [{**missing, **row} for row in rows]


def update_by_id(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Set the named columns of each row ``_id``; rows naming different columns go in groups."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(c for c in row if c != "_id"), []).append(row)
    for columns, group in groups.items():
        _update_group(session, table, group, list(columns))


def _update_group(session: Session, table: Table, rows: Sequence[dict[str, Any]], columns: list[str]) -> None:
    if is_postgres(session):
        _pg_update(session, table, rows, columns)
        return
    sql = f"UPDATE {table.name} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"
    _sqlite_executemany(session, table, sql, columns + ["_id"], rows)


def _insert_sql(table: Table, columns: list[str], conflict: Sequence[str] | None) -> str:
    target = f"({', '.join(conflict)})" if conflict else ""
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT {target} DO NOTHING"


def _sqlite_executemany(session: Session, table: Table, sql: str, names: list[str],
                        rows: Sequence[dict[str, Any]]) -> None:
    """Run ``sql`` for every row through sqlite3 itself, values converted as SQLAlchemy would."""
    convert = [_sqlite_converter(table.c[n].type) if n in table.c else None for n in names]
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for part in chunked(rows, SQLITE_CHUNK):
            cursor.executemany(sql, [
                tuple(v if f is None or v is None else f(v) for f, v in zip(convert, (r[n] for n in names)))
                for r in part
            ])
    finally:
        cursor.close()


def _sqlite_converter(column_type: Any) -> Any:
    """How SQLAlchemy's SQLite dialect stores a value of this type (None: as it is)."""
    if isinstance(column_type, JSON):
        return lambda v: json.dumps(v, ensure_ascii=False)
    if isinstance(column_type, DateTime):
        return lambda v: v if isinstance(v, str) else v.isoformat(" ", "microseconds")
    if isinstance(column_type, Date):
        return lambda v: v.isoformat()
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        return float
    if isinstance(column_type, Boolean):
        return int
    return None


def _stage(session: Session, table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]],
           extra_id: bool = False) -> str:
    """COPY the rows into a temporary table shaped like ``columns`` of ``table``; return its name."""
    stage = f"_stage_{table.name}"
    cols = ", ".join(columns)
    conn = session.connection()
    conn.execute(text(f"DROP TABLE IF EXISTS {stage}"))
    conn.execute(text(
        f"CREATE TEMP TABLE {stage} AS SELECT {'NULL::bigint AS _id, ' if extra_id else ''}{cols}"
        f" FROM {table.name} WITH NO DATA"
    ))
    json_cols = {c for c in columns if isinstance(table.c[c].type, JSON)}
    names = (["_id"] if extra_id else []) + list(columns)
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor:
        with cursor.copy(f"COPY {stage} ({', '.join(names)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row([_copy_value(row[n], n in json_cols) for n in names])
    return stage


def _copy_value(value: Any, is_json: bool) -> Any:
    return json.dumps(value, ensure_ascii=False) if is_json and value is not None else value


def _pg_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]],
               conflict: Sequence[str] | None, returning: Sequence[str]) -> list[Row[Any]]:
    columns = list(rows[0])
    stage = _stage(session, table, columns, rows)
    cols = ", ".join(columns)
    target = f"({', '.join(conflict)})" if conflict else ""
    back = f" RETURNING {', '.join(returning)}" if returning else ""
    result = session.connection().execute(text(
        f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage}"
        f" ON CONFLICT {target} DO NOTHING{back}"
    ))
    found = list(result) if returning else []
    session.connection().execute(text(f"DROP TABLE {stage}"))
    return found


def _pg_update(session: Session, table: Table, rows: Sequence[dict[str, Any]], columns: list[str]) -> None:
    stage = _stage(session, table, columns, rows, extra_id=True)
    sets = ", ".join(f"{c} = s.{c}" for c in columns)
    conn = session.connection()
    conn.execute(text(f"UPDATE {table.name} AS t SET {sets} FROM {stage} AS s WHERE t.id = s._id"))
    conn.execute(text(f"DROP TABLE {stage}"))
