"""Queries over a list's entries as the public sees them: builders return ``select()``.

Withdrawn entries and entries hidden from the public (``public`` false: withdrawn, or removed
early under a repair rule) never appear here, whatever status is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from blacklist.errors import ListQueryError
from credit.models import Entity, ListEntry

STATUSES = ("active", "removed", "all")
# The statuses a public reader may see; "withdrawn" is for regulators only.
PUBLIC_STATUSES = ("active", "removed")
# Province (2), city (4) or county (6) prefix of the administrative division code. ASCII digits
# only (``\d`` would take full-width ones) and anchored at the end, for callers that use match().
REGION_PATTERN = re.compile(r"(?:[0-9]{2}|[0-9]{4}|[0-9]{6})\Z")
# Public fields only, in the documented order; nothing internal (ids, sources, hashes).
PUBLIC_COLUMNS = ("uscc", "name", "reason", "listed_on", "listed_by", "removed_on", "removal_reason")


@dataclass(frozen=True)
class EntryRow:
    """One entry of a list as the public sees it."""

    uscc: str | None
    name: str
    reason: str | None
    listed_on: date | None
    listed_by: str | None
    removed_on: date | None
    removal_reason: str | None


@dataclass(frozen=True)
class EntryPage:
    """One page of a list's entries and the total over all pages."""

    total: int
    page: int
    per_page: int
    items: list[EntryRow]


def entry_filters(list_id: str, status: str = "active", region: str | None = None) -> list[ColumnElement[bool]]:
    """The WHERE conditions for a list's public entries with this status, in this region."""
    if status not in STATUSES:
        raise ListQueryError("status", f"must be one of {', '.join(STATUSES)}")
    if region is not None and not REGION_PATTERN.fullmatch(region):
        raise ListQueryError("region", "must be a 2-, 4- or 6-digit administrative division code")
    wanted = PUBLIC_STATUSES if status == "all" else (status,)
    filters = [ListEntry.list_id == list_id, ListEntry.public.is_(True), ListEntry.status.in_(wanted)]
    if region:
        filters.append(Entity.division_code.startswith(region, autoescape=True))
    return filters


def entries_query(list_id: str, status: str = "active", region: str | None = None) -> Select[Any]:
    """The public columns of a list's entries, newest listing first (then by entry id, for a stable order)."""
    columns = [getattr(Entity, c) if c in ("uscc", "name") else getattr(ListEntry, c) for c in PUBLIC_COLUMNS]
    return (select(*columns).join(Entity, Entity.id == ListEntry.entity_id)
            .where(*entry_filters(list_id, status, region))
            # NULL dates sort last on both dialects, so undated entries never head the list.
            .order_by(ListEntry.listed_on.desc().nulls_last(), ListEntry.id))


def count_query(list_id: str, status: str = "active", region: str | None = None) -> Select[tuple[int]]:
    """The number of entries ``entries_query`` would return."""
    return (select(func.count()).select_from(ListEntry).join(Entity, Entity.id == ListEntry.entity_id)
            .where(*entry_filters(list_id, status, region)))


def count_entries(session: Session, list_id: str, status: str = "active", region: str | None = None) -> int:
    """How many public entries the list has with this status in this region."""
    return int(session.execute(count_query(list_id, status, region)).scalar_one())


def get_entry_page(session: Session, list_id: str, *, status: str = "active", region: str | None = None,
                   page: int = 1, per_page: int = 20) -> EntryPage:
    """One page of a list's public entries, with the total."""
    if page < 1 or per_page < 1:
        raise ListQueryError("page" if page < 1 else "per_page", "must be at least 1")
    query = entries_query(list_id, status, region).limit(per_page).offset((page - 1) * per_page)
    items = [EntryRow(*row) for row in session.execute(query)]
    return EntryPage(count_entries(session, list_id, status, region), page, per_page, items)


def iter_entries(session: Session, list_id: str, *, status: str = "active", region: str | None = None,
                 limit: int | None = None, batch: int = 1000) -> Iterator[EntryRow]:
    """Stream a list's public entries in batches (for exports), at most ``limit`` of them."""
    query = entries_query(list_id, status, region)
    if limit is not None:
        query = query.limit(limit)
    for row in session.execute(query.execution_options(yield_per=batch)):
        yield EntryRow(*row)


def row_values(row: EntryRow, columns: Sequence[str] = PUBLIC_COLUMNS) -> list[Any]:
    """The row's values in column order, for a writer that takes plain sequences."""
    return [getattr(row, name) for name in columns]
