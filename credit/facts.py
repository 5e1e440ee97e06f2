"""Apply batches of facts keyed by (source, source key): insert, update, withdraw or skip."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.changelog import Change, append_changes
from credit.clock import utcnow
from credit.db import among, chunked, lock_rows, note_bulk_write
from credit.errors import InvalidFactError
from credit.models import Fact
from credit.bulk import insert_rows, update_by_id

CHUNK = 2000
CHANGES = {"i", "u", "d"}
CONTENT = ("entity_id", "kind", "authority", "decided_on", "valid_from", "valid_to",
           "publicity_until", "severity", "body")
FactKey = tuple[str, str]


@dataclass(frozen=True)
class FactIn:
    """One credit record as a source sent it; ``change`` is i(nsert), u(pdate) or d(elete)."""

    entity_id: int
    source: str
    source_key: str
    kind: str
    body: dict[str, Any] = field(default_factory=dict)
    authority: str | None = None
    decided_on: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    publicity_until: date | None = None
    severity: str | None = None
    change: str = "i"

    @cached_property
    def content_hash(self) -> str:
        """A digest of everything the record says, so an unchanged re-send writes nothing."""
        content = [_plain(getattr(self, name)) for name in CONTENT]
        blob = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


def _plain(value: Any) -> Any:
    """Dates as ISO text so the JSON encoder never calls back into Python for them."""
    return value.isoformat() if isinstance(value, date) else value


@dataclass
class FactResult:
    """What applying a batch did; ``missing`` counts withdrawals of records never stored."""

    inserted: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    missing: int = 0
    entities_changed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Stored:
    id: int
    entity_id: int
    content_hash: str
    status: str


def apply_facts(session: Session, facts: Sequence[FactIn]) -> FactResult:
    """Apply a batch in stream order: the last record of a key in the batch is what counts."""
    batch = {(f.source, f.source_key): _checked(f) for f in facts}
    lock_rows(session, "entity", sorted({f.entity_id for f in batch.values()}))
    stored = _load(session, list(batch))
    now = utcnow()
    result = FactResult()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    withdrawals: list[dict[str, Any]] = []
    changed: dict[int, list[dict[str, str]]] = defaultdict(list)
    for key, fact in batch.items():
        op = _decide(fact, stored.get(key))
        if op in ("unchanged", "missing"):
            setattr(result, op, getattr(result, op) + 1)
            continue
        if op == "insert":
            inserts.append(_row(fact, now) | {"first_seen": now})
        elif op == "update":
            updates.append(_row(fact, now) | {"_id": stored[key].id})
        else:
            withdrawals.append({"_id": stored[key].id, "status": "withdrawn", "withdrawn_at": now, "updated_at": now})
        for entity_id in {fact.entity_id, stored[key].entity_id} if key in stored else {fact.entity_id}:
            changed[entity_id].append({"op": op, "kind": fact.kind, "source": key[0], "key": key[1]})
    _write(session, inserts, updates, withdrawals)
    result.inserted, result.updated, result.withdrawn = len(inserts), len(updates), len(withdrawals)
    append_changes(session, [Change(e, "fact", "change", {"facts": changed[e]}) for e in sorted(changed)])
    result.entities_changed = sorted(changed)
    return result


def _checked(fact: FactIn) -> FactIn:
    """Refuse a fact the store cannot hold, naming the key and the reason."""
    if fact.change not in CHANGES:
        raise InvalidFactError(fact.source, fact.source_key, f"change flag {fact.change!r} is not i, u or d")
    if not fact.source_key or len(fact.source_key) > 200:
        raise InvalidFactError(fact.source, fact.source_key[:40], "source key must be 1 to 200 characters")
    return fact


def _load(session: Session, keys: list[FactKey]) -> dict[FactKey, _Stored]:
    """The stored version of each key in the batch, if any (one indexed IN list per source)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, source_key in keys:
        by_source[source].append(source_key)
    stored: dict[FactKey, _Stored] = {}
    conn = session.connection()
    cols = (Fact.source_key, Fact.id, Fact.entity_id, Fact.content_hash, Fact.status)
    for source, source_keys in by_source.items():
        for part in chunked(source_keys, CHUNK):
            query = select(*cols).where(Fact.source == source, among(session, Fact.source_key, part))
            for row in conn.execute(query):
                stored[(source, row[0])] = _Stored(row[1], row[2], row[3], row[4])
    return stored


def _decide(fact: FactIn, stored: _Stored | None) -> str:
    """insert, update, withdraw, unchanged, or missing (a withdrawal of an unknown record)."""
    if fact.change == "d":
        if stored is None:
            return "missing"
        return "withdraw" if stored.status == "active" else "unchanged"
    if stored is None:
        return "insert"
    if stored.status == "active" and stored.content_hash == fact.content_hash:
        return "unchanged"
    return "update"


def _row(fact: FactIn, now: datetime) -> dict[str, Any]:
    row = {name: getattr(fact, name) for name in CONTENT}
    row.update(source=fact.source, source_key=fact.source_key, content_hash=fact.content_hash,
               status="active", updated_at=now, withdrawn_at=None)
    return row


def _write(
    session: Session,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    withdrawals: list[dict[str, Any]],
) -> None:
    """Bulk insert new facts, rewrite changed ones, mark withdrawn ones (never delete)."""
    table = Fact.__table__
    if inserts:
        insert_rows(session, table, inserts, conflict=["source", "source_key"])
        note_bulk_write(session, "fact", len(inserts))
    update_by_id(session, table, updates)
    update_by_id(session, table, withdrawals)
