"""Engines, sessions and units of work for the store, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, any_, bindparam, create_engine, event, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATEs that mean "run the unit of work again": deadlock, serialization failure.
RETRYABLE_SQLSTATES = {"40P01", "40001"}
SQLITE_BUSY_WORDS = ("database is locked", "database table is locked")


def make_engine(url: str, read_only: bool = False, **kwargs: Any) -> Engine:
    """Create an engine with the settings the store relies on for that dialect.

    ``read_only``: on SQLite, transactions begin deferred and never take the write lock, so a
    long reader (an index rebuild) never holds up writers.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, read_only, **kwargs)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_engine(url: str, database: str | None, read_only: bool = False, **kwargs: Any) -> Engine:
    """SQLite with WAL, foreign keys, a busy timeout and explicit BEGIN IMMEDIATE writes."""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking;
        # a read-only engine begins deferred: in WAL mode its snapshot needs no lock at all.
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def is_postgres(session: Session) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def is_retryable(exc: BaseException) -> bool:
    """True for a deadlock, a serialization failure or a busy SQLite database."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and any(w in str(exc.orig) for w in SQLITE_BUSY_WORDS)


def run_unit(
    factory: Callable[[], Session], work: Callable[[Session], T], *, attempts: int = 5
) -> T:
    """Run ``work`` in one transaction and commit; on a deadlock, roll back and run it again."""
    for attempt in range(1, attempts + 1):
        with factory() as session:
            try:
                result = work(session)
                session.commit()
                return result
            except DBAPIError as exc:
                session.rollback()
                if attempt == attempts or not is_retryable(exc):
                    raise
                log.warning("retrying unit of work after %s (attempt %d)", exc.orig, attempt)
        time.sleep(random.uniform(0.01, 0.05) * attempt)
    raise AssertionError("unreachable")


@contextmanager
def unit_of_work(factory: Callable[[], Session]) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Yield consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lock_rows(session: Session, table: str, ids: Sequence[int]) -> None:
    """On PostgreSQL, lock these rows in id order so overlapping writers queue, never cross."""
    if not ids or not is_postgres(session):
        return
    session.execute(
        text(f"SELECT id FROM {table} WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"),
        {"ids": sorted(set(ids))},
    )


def among(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values`` bound as ONE parameter: an array on PostgreSQL, JSON on SQLite.

    Thousands of IN parameters cost SQLAlchemy and the database more to bind and plan than the
    indexed lookup itself; both forms still search the column's index value by value.
    """
    if is_postgres(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values), ensure_ascii=False)))
    )
    return column.in_(listed.scalar_subquery())


# Rows written to a table in this transaction since PostgreSQL last analysed it: a bulk load
# inside one transaction is invisible to autovacuum, and planning later batches on the empty
# table's statistics turns index lookups into scans of the whole table.
_WRITES_KEY = "gongxin.writes_since_analyze"
ANALYZE_MIN_ROWS = 20_000
ANALYZE_GROWTH = 1.0  # re-analyse when the table has doubled: a handful of times per big load
# Only the columns lookups filter on: sampling a JSON body costs more than all the rest.
ANALYZE_COLUMNS = {
    "entity": "uscc, reg_no, org_code, name_norm, division_code",
    "claim": "entity_id",
    "fact": "source, source_key, entity_id",
    "list_entry": "source, source_key, entity_id, list_id",
    "change_log": "entity_id",
}


def note_bulk_write(session: Session, table: str, rows: int) -> None:
    """Count rows written; on PostgreSQL re-analyse the table once it has doubled."""
    if rows <= 0 or not is_postgres(session):
        return
    counts: dict[str, int] = session.info.setdefault(_WRITES_KEY, {})
    counts[table] = counts.get(table, 0) + rows
    if counts[table] < ANALYZE_MIN_ROWS:
        return
    known = session.execute(
        text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = cast(:t AS regclass)"), {"t": table}
    ).scalar_one()
    if counts[table] >= ANALYZE_GROWTH * float(known):
        columns = ANALYZE_COLUMNS.get(table)
        session.execute(text(f"ANALYZE {table} ({columns})" if columns else f"ANALYZE {table}"))
        counts[table] = 0
