"""Apply batches of list entries keyed by (source, source key): list, update, remove, withdraw.

This is the plain mapping of listing and removal records to entries; the rules that decide
listings on their own (deadlines, transfers, expiry) live in ``blacklist``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.bulk import insert_rows, update_by_id
from credit.changelog import Change, append_changes
from credit.clock import utcnow
from credit.db import among, chunked, lock_rows, note_bulk_write
from credit.errors import InvalidFactError
from credit.models import ListEntry

CHUNK = 2000
CONTENT = ("entity_id", "list_id", "reason", "reason_code", "basis", "decision_no", "listed_on",
           "listed_by", "due_expiry", "removed_on", "removal_reason", "removed_by")


@dataclass(frozen=True)
class ListEntryIn:
    """A listing (and, when removed, its removal) as a source sent it."""

    entity_id: int
    list_id: str
    source: str
    source_key: str
    listed_on: date | None = None
    reason: str | None = None
    reason_code: str | None = None
    basis: str | None = None
    decision_no: str | None = None
    listed_by: str | None = None
    due_expiry: date | None = None
    removed_on: date | None = None
    removal_reason: str | None = None
    removed_by: str | None = None
    change: str = "i"

    @cached_property
    def content_hash(self) -> str:
        """Digest of what the record says; an unchanged re-send writes nothing."""
        values = [v.isoformat() if isinstance(v, date) else v for v in (getattr(self, n) for n in CONTENT)]
        blob = json.dumps(values, ensure_ascii=False)
        return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()

    @property
    def status(self) -> str:
        """``removed`` once a removal date is known, else ``active``."""
        return "removed" if self.removed_on else "active"


@dataclass
class ListResult:
    """What applying a batch did."""

    inserted: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    missing: int = 0
    entities_changed: list[int] = field(default_factory=list)


def apply_list_entries(session: Session, entries: Sequence[ListEntryIn]) -> ListResult:
    """Apply listing records in stream order; a withdrawn record stays, hidden from the public."""
    batch = {(e.source, e.source_key): _checked(e) for e in entries}
    lock_rows(session, "entity", sorted({e.entity_id for e in batch.values()}))
    stored = _load(session, list(batch))
    now = utcnow()
    result = ListResult()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    changed: dict[int, list[dict[str, str]]] = defaultdict(list)
    for key, entry in batch.items():
        old = stored.get(key)
        op = _decide(entry, old)
        if op in ("unchanged", "missing"):
            setattr(result, op, getattr(result, op) + 1)
            continue
        if op == "insert":
            inserts.append(_row(entry) | {"created_at": now, "updated_at": now})
        elif op == "withdraw":
            updates.append({"_id": old[0], "public": False, "status": "withdrawn", "updated_at": now})  # type: ignore[index]
        else:
            updates.append({"_id": old[0], **_row(entry), "updated_at": now})  # type: ignore[index]
        changed[entry.entity_id].append({"op": op, "list": entry.list_id, "source": key[0], "key": key[1]})
    insert_rows(session, ListEntry.__table__, inserts, conflict=["source", "source_key"])
    note_bulk_write(session, "list_entry", len(inserts))
    for rows in _by_columns(updates):
        update_by_id(session, ListEntry.__table__, rows)
    result.inserted = len(inserts)
    result.updated = sum(1 for u in updates if u.get("status") != "withdrawn")
    result.withdrawn = len(updates) - result.updated
    append_changes(session, [Change(e, "list", "change", {"entries": changed[e]}) for e in sorted(changed)])
    result.entities_changed = sorted(changed)
    return result


def _checked(entry: ListEntryIn) -> ListEntryIn:
    if entry.change not in ("i", "u", "d"):
        raise InvalidFactError(entry.source, entry.source_key, f"change flag {entry.change!r} is not i, u or d")
    if entry.removed_on and entry.listed_on and entry.removed_on < entry.listed_on:
        raise InvalidFactError(entry.source, entry.source_key, "removed before it was listed")
    return entry


def _load(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str, str]]:
    """(id, content hash, status) of each stored key of the batch."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, source_key in keys:
        by_source[source].append(source_key)
    stored: dict[tuple[str, str], tuple[int, str, str]] = {}
    cols = (ListEntry.source_key, ListEntry.id, ListEntry.content_hash, ListEntry.status)
    for source, source_keys in by_source.items():
        for part in chunked(source_keys, CHUNK):
            query = select(*cols).where(ListEntry.source == source, among(session, ListEntry.source_key, part))
            for row in session.connection().execute(query):
                stored[(source, row[0])] = (row[1], row[2] or "", row[3])
    return stored


def _decide(entry: ListEntryIn, old: tuple[int, str, str] | None) -> str:
    if entry.change == "d":
        if old is None:
            return "missing"
        return "unchanged" if old[2] == "withdrawn" else "withdraw"
    if old is None:
        return "insert"
    return "unchanged" if old[1] == entry.content_hash and old[2] != "withdrawn" else "update"


def _row(entry: ListEntryIn) -> dict[str, Any]:
    row = {name: getattr(entry, name) for name in CONTENT}
    row.update(source=entry.source, source_key=entry.source_key, content_hash=entry.content_hash,
               status=entry.status, public=True)
    return row


def _by_columns(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    return list(groups.values())
