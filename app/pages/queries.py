"""The few reads the pages need beyond the domain packages' own: counts, identifiers, agencies.

Builders return ``select()``; the functions that run them take a Session, never a Flask context.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from credit.models import Agency, Entity, IngestRun, ListEntry, RejectedRow
from ingest.errors import RegistryError
from ingest.history import last_runs_query
from ingest.registry import SourceSpec, load_registry

REGULATOR_PREFIX = "regulator:"  # the source of entries an agency flags through the regulator API


@dataclass(frozen=True)
class SourceState:
    """A source as the public sees it: who runs it, and its latest run (when it has one)."""

    id: str
    agency: str
    kind: str
    schedule: str
    run: IngestRun | None
    rejected_fields: tuple[tuple[str, int], ...] = ()


def entity_count(session: Session) -> int:
    """How many entities the store holds."""
    return int(session.execute(select(func.count()).select_from(Entity)).scalar_one())


def active_counts_query() -> Select[tuple[str, int]]:
    """Public, active entries per list."""
    return (select(ListEntry.list_id, func.count()).where(ListEntry.status == "active", ListEntry.public.is_(True))
            .group_by(ListEntry.list_id))


def active_counts(session: Session) -> dict[str, int]:
    """How many entities each list holds now, publicly."""
    return {list_id: int(n) for list_id, n in session.execute(active_counts_query()).tuples()}


def reg_nos(session: Session, entity_ids: Sequence[int]) -> dict[int, str]:
    """The registration number (or organisation code) of entities that have no USCC, for links."""
    if not entity_ids:
        return {}
    query = select(Entity.id, Entity.reg_no, Entity.org_code).where(Entity.id.in_(sorted(set(entity_ids))))
    return {eid: reg_no or org_code for eid, reg_no, org_code in session.execute(query).tuples()
            if reg_no or org_code}


def rejected_by_field_query(run_ids: Sequence[int]) -> Select[tuple[int, str | None, int]]:
    """Rejected rows of these runs counted by run and field."""
    return (select(RejectedRow.run_id, RejectedRow.field, func.count())
            .where(RejectedRow.run_id.in_(run_ids)).group_by(RejectedRow.run_id, RejectedRow.field))


def source_states(session: Session, registry_path: Path) -> list[SourceState]:
    """Every declared source and every source that has run, with its latest run and rejected fields."""
    declared = {spec.id: spec for spec in registry_sources(registry_path)}
    runs = {run.source_id: run for run in session.scalars(last_runs_query())}
    rejected: dict[int, list[tuple[str, int]]] = {}
    if runs:
        for run_id, field, n in session.execute(rejected_by_field_query([r.id for r in runs.values()])).tuples():
            rejected.setdefault(run_id, []).append((field or "（整行）", int(n)))
    states = []
    for source_id in list(declared) + sorted(runs.keys() - declared.keys()):
        spec, run = declared.get(source_id), runs.get(source_id)
        fields = sorted(rejected.get(run.id, []), key=lambda p: (-p[1], p[0])) if run else []
        if spec is not None:  # name a field by the header the source's own file uses
            fields = [(spec.columns.get(f, f), n) for f, n in fields]
        states.append(SourceState(source_id, spec.agency if spec else "", spec.kind if spec else "",
                                  spec.schedule if spec else "", run, tuple(fields)))
    return states


def agencies(session: Session, registry_path: Path, sources: Iterable[str]) -> dict[str, str]:
    """The agency behind each of these source ids: from the registry, or the agency table for API sources."""
    found = {spec.id: spec.agency for spec in registry_sources(registry_path)}
    by_token = {s[len(REGULATOR_PREFIX):] for s in sources if s and s.startswith(REGULATOR_PREFIX)}
    if by_token:
        query = select(Agency.id, Agency.name).where(Agency.id.in_(sorted(by_token)))
        found.update({REGULATOR_PREFIX + agency_id: name for agency_id, name in session.execute(query).tuples()})
    return found


def registry_sources(path: Path) -> tuple[SourceSpec, ...]:
    """The registry's sources; none when it is missing or broken (the pages still show the runs)."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return ()
    return _load_sources(str(path), stamp)


@lru_cache(maxsize=4)
def _load_sources(path: str, _stamp: int) -> tuple[SourceSpec, ...]:
    # Keyed by modification time too: an edited registry is read again.
    try:
        return load_registry(Path(path)).sources
    except RegistryError:
        return ()
