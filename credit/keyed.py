"""Records keyed by (source, source key) with a content hash: facts and list entries alike.

A batch applies in stream order (the last record of a key wins): new → insert, same hash →
nothing written, changed → update, ``d`` → withdrawn (never deleted), and one change-log entry
per touched entity says what happened to which key.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.bulk import insert_rows, update_by_id
from credit.changelog import Change, append_changes
from credit.clock import utcnow
from credit.db import among, chunked, lock_rows, note_bulk_write
from credit.errors import InvalidFactError

CHUNK = 2000
CHANGES = ("i", "u", "d")
Key = tuple[str, str]


class KeyedIn(Protocol):
    """What facts and list entries share as input."""

    entity_id: int
    source: str
    source_key: str
    change: str

    @property
    def content_hash(self) -> str: ...

    def row(self, now: datetime) -> dict[str, Any]: ...

    def describe(self) -> dict[str, str]: ...


@dataclass
class KeyedResult:
    """What applying a batch did; ``missing`` counts withdrawals of records never stored."""

    inserted: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    missing: int = 0
    entities_changed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Stored:
    """The stored version of a key."""

    id: int
    entity_id: int
    content_hash: str
    status: str


def digest(values: Iterable[Any]) -> str:
    """Digest of a record's content; dates as ISO text so the JSON encoder stays in C."""
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    blob = json.dumps(plain, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()


def check_keyed(item: KeyedIn) -> None:
    """Refuse a record the store cannot hold, naming its key and the reason."""
    if item.change not in CHANGES:
        raise InvalidFactError(item.source, item.source_key, f"change flag {item.change!r} is not i, u or d")
    if not item.source_key or len(item.source_key) > 200:
        raise InvalidFactError(item.source, item.source_key[:40], "source key must be 1 to 200 characters")


def apply_keyed(session: Session, model: Any, items: Sequence[KeyedIn], *, log_kind: str,
                withdrawn: dict[str, Any], created_column: str) -> KeyedResult:
    """Apply a batch to ``model``'s table.

    ``withdrawn`` holds the values that mark a withdrawal; ``created_column`` is set on insert only.
    """
    batch: dict[Key, KeyedIn] = {}
    for item in items:
        check_keyed(item)
        batch[(item.source, item.source_key)] = item
    lock_rows(session, "entity", sorted({i.entity_id for i in batch.values()}))
    stored = load_stored(session, model, list(batch))
    now, result = utcnow(), KeyedResult()
    inserts, updates = [], []
    changed: dict[int, list[dict[str, str]]] = defaultdict(list)
    for key, item in batch.items():
        old = stored.get(key)
        op = decide(item, old)
        if op in ("unchanged", "missing"):
            setattr(result, op, getattr(result, op) + 1)
            continue
        if op == "insert":
            inserts.append(item.row(now) | {created_column: now})
        elif op == "withdraw":
            result.withdrawn += 1
            updates.append({"_id": old.id, **withdrawn, "updated_at": now})  # type: ignore[union-attr]
        else:
            result.updated += 1
            updates.append({"_id": old.id, **item.row(now)})  # type: ignore[union-attr]
        for entity_id in {item.entity_id} | ({old.entity_id} if old else set()):
            changed[entity_id].append({"op": op, **item.describe(), "source": key[0], "key": key[1]})
    insert_rows(session, model.__table__, inserts, conflict=["source", "source_key"])
    note_bulk_write(session, model.__tablename__, len(inserts))
    update_by_id(session, model.__table__, updates)
    result.inserted = len(inserts)
    append_changes(session, [Change(e, log_kind, "change", {log_kind + "s": changed[e]}) for e in sorted(changed)])
    result.entities_changed = sorted(changed)
    return result


def load_stored(session: Session, model: Any, keys: list[Key]) -> dict[Key, Stored]:
    """The stored version of each key of the batch (one indexed lookup list per source)."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for source, source_key in keys:
        by_source[source].append(source_key)
    stored: dict[Key, Stored] = {}
    cols = (model.source_key, model.id, model.entity_id, model.content_hash, model.status)
    for source, source_keys in by_source.items():
        for part in chunked(source_keys, CHUNK):
            query = select(*cols).where(model.source == source, among(session, model.source_key, part))
            for row in session.connection().execute(query):
                stored[(source, row[0])] = Stored(row[1], row[2], row[3] or "", row[4])
    return stored


def decide(item: KeyedIn, stored: Stored | None) -> str:
    """insert, update, withdraw, unchanged, or missing (a withdrawal of an unknown record)."""
    if item.change == "d":
        if stored is None:
            return "missing"
        return "unchanged" if stored.status == "withdrawn" else "withdraw"
    if stored is None:
        return "insert"
    if stored.status != "withdrawn" and stored.content_hash == item.content_hash:
        return "unchanged"
    return "update"
