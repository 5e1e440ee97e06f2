"""Queries over ingest history: runs, their rejected rows, held unresolved records."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from credit.models import IngestRun, RejectedRow, UnresolvedRecord

# What a run counts, in the order every report shows them; each is the run's ``rows_<name>`` column.
RUN_COUNTS = ("read", "new", "updated", "unchanged", "withdrawn", "rejected", "unresolved", "resolved")


def run_counts(run: IngestRun) -> dict[str, int]:
    """A run's counts by name, in RUN_COUNTS order."""
    return {name: getattr(run, f"rows_{name}") for name in RUN_COUNTS}


def runs_query(source_id: str | None = None, limit: int = 50) -> Select[tuple[IngestRun]]:
    """The newest runs first, of one source or all."""
    query = select(IngestRun).order_by(IngestRun.id.desc()).limit(limit)
    return query.where(IngestRun.source_id == source_id) if source_id else query


def rejected_query(run_id: int, limit: int = 1000, offset: int = 0) -> Select[tuple[RejectedRow]]:
    """The rejected rows of a run in file order."""
    return (select(RejectedRow).where(RejectedRow.run_id == run_id)
            .order_by(RejectedRow.row_number, RejectedRow.id).limit(limit).offset(offset))


def unresolved_query(source_id: str | None = None, limit: int = 1000) -> Select[tuple[UnresolvedRecord]]:
    """Records still waiting for their entity, oldest first."""
    query = (select(UnresolvedRecord).where(UnresolvedRecord.resolved_at.is_(None))
             .order_by(UnresolvedRecord.id).limit(limit))
    return query.where(UnresolvedRecord.source == source_id) if source_id else query


def last_runs_query() -> Select[tuple[IngestRun]]:
    """The latest run of every source (for /healthz and the sources page)."""
    latest = select(IngestRun.source_id, func.max(IngestRun.id).label("id")).group_by(IngestRun.source_id).subquery()
    return select(IngestRun).join(latest, IngestRun.id == latest.c.id).order_by(IngestRun.source_id)
