"""Apply batches of attribute claims and resolve each attribute by source precedence.

Precedence: a higher ``rank`` wins (the registration authority outranks other sources);
within one rank the value observed most recently wins; ties fall to source id then value so
that the outcome never depends on the order batches arrive in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from credit.attributes import ATTRIBUTES, typed_value
from credit.changelog import Change, append_changes
from credit.clock import utcnow
from credit.db import among, chunked, is_postgres, lock_rows, note_bulk_write
from credit.errors import UnknownEntityError
from credit.models import Claim, Entity
from credit.text import normalise_text
from credit.bulk import insert_rows, update_by_id

CHUNK = 5000
ClaimKey = tuple[int, str, str, str]  # entity_id, field, source, value


@dataclass(frozen=True)
class ClaimIn:
    """A source's statement that an entity's attribute has a value, observed at a time."""

    entity_id: int
    field: str
    value: str
    source: str
    rank: int
    observed_at: datetime


@dataclass(slots=True)
class _Seen:
    id: int | None
    rank: int
    first_seen: Any  # a datetime, or SQLite's stored text of one (see _stamp_for)
    last_seen: Any


@dataclass
class ClaimResult:
    """What applying a batch did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    entities_changed: list[int] = field(default_factory=list)


def apply_claims(session: Session, claims: Sequence[ClaimIn]) -> ClaimResult:
    """Record claims (first/last seen per source and value) and update the winning values."""
    incoming = _merge_batch(claims, _stamp_for(session))
    entity_ids = sorted({key[0] for key in incoming})
    lock_rows(session, "entity", entity_ids)
    current = _load_attributes(session, entity_ids)
    missing = set(entity_ids) - current.keys()
    if missing:
        raise UnknownEntityError(f"no entity with id {sorted(missing)[:10]}")
    known = _load_claims(session, entity_ids)
    inserts, updates, result = _diff(incoming, known)
    _write_claims(session, known, inserts, updates)
    touched = {(k[0], k[1]) for k in inserts} | {(k[0], k[1]) for k in updates}
    winners = _winners(known, touched)
    result.entities_changed = _update_entities(session, current, winners)
    return result


def precedence(rank: int, last_seen: Any, source: str, value: str) -> tuple[int, Any, str, str]:
    """Sort key of a claim: the greatest wins its attribute."""
    return (rank, last_seen, source, value)


def _stamp_for(session: Session) -> Callable[[datetime], Any]:
    """Observation times in the form the store hands back: SQLite's stored text, else datetimes.

    Comparing SQLite's fixed-width text ("YYYY-MM-DD HH:MM:SS.ffffff") orders like the times
    themselves and spares parsing every stored claim on re-apply.
    """
    if is_postgres(session):
        return lambda moment: moment
    return lambda moment: moment.isoformat(" ", "microseconds")


def _merge_batch(claims: Iterable[ClaimIn], stamp: Callable[[datetime], Any]) -> dict[ClaimKey, _Seen]:
    """Fold a batch to one entry per (entity, field, source, value)."""
    merged: dict[ClaimKey, _Seen] = {}
    stamps: dict[datetime, Any] = {}
    for c in claims:
        at = stamps.get(c.observed_at)
        if at is None:
            at = stamps[c.observed_at] = stamp(c.observed_at)
        key = (c.entity_id, c.field, c.source, c.value)
        seen = merged.get(key)
        if seen is None:
            merged[key] = _Seen(None, c.rank, at, at)
        elif at == seen.first_seen == seen.last_seen:
            continue
        else:
            seen.first_seen = min(seen.first_seen, at)
            seen.last_seen = max(seen.last_seen, at)
    return merged


def _load_claims(session: Session, entity_ids: Sequence[int]) -> dict[ClaimKey, _Seen]:
    """Every stored claim of these entities (resolution needs all of an entity's claims)."""
    first, last = Claim.first_seen, Claim.last_seen
    if not is_postgres(session):
        first, last = type_coerce(first, String), type_coerce(last, String)  # see _stamp_for
    cols = (Claim.id, Claim.entity_id, Claim.field, Claim.source, Claim.value, Claim.rank, first, last)
    known: dict[ClaimKey, _Seen] = {}
    conn = session.connection()
    for part in chunked(entity_ids, CHUNK):
        rows = conn.execute(select(*cols).where(among(session, Claim.entity_id, part))).all()
        for claim_id, entity_id, field_, source, value, rank, first_seen, last_seen in rows:
            known[(entity_id, field_, source, value)] = _Seen(claim_id, rank, first_seen, last_seen)
    return known


def _diff(
    incoming: dict[ClaimKey, _Seen], known: dict[ClaimKey, _Seen]
) -> tuple[list[ClaimKey], list[ClaimKey], ClaimResult]:
    """Split the batch into new claims, widened claims and claims that change nothing.

    Only what will be written is checked (InvalidClaimError): a stored claim passed once.
    ``known`` is updated in place to the state after the batch, ready for resolution.
    """
    inserts: list[ClaimKey] = []
    updates: list[ClaimKey] = []
    result = ClaimResult()
    for key, new in incoming.items():
        old = known.get(key)
        if old is None:
            typed_value(key[1], key[3])
            known[key] = new
            inserts.append(key)
        elif new.first_seen < old.first_seen or new.last_seen > old.last_seen or new.rank != old.rank:
            typed_value(key[1], key[3])
            old.first_seen = min(old.first_seen, new.first_seen)
            old.last_seen = max(old.last_seen, new.last_seen)
            old.rank = new.rank
            updates.append(key)
        else:
            result.unchanged += 1
    result.inserted, result.updated = len(inserts), len(updates)
    return inserts, updates, result


def _write_claims(
    session: Session,
    known: dict[ClaimKey, _Seen],
    inserts: list[ClaimKey],
    updates: list[ClaimKey],
) -> None:
    """Insert new claims and widen the seen-window of existing ones, in bulk."""
    table = Claim.__table__
    if inserts:
        rows = [_claim_row(key, known[key]) for key in inserts]
        insert_rows(session, table, rows, conflict=["entity_id", "field", "source", "value"])
        note_bulk_write(session, "claim", len(rows))
    update_by_id(session, table, [
        {"_id": known[k].id, "rank": known[k].rank, "first_seen": known[k].first_seen,
         "last_seen": known[k].last_seen}
        for k in updates
    ])


def _claim_row(key: ClaimKey, seen: _Seen) -> dict[str, Any]:
    return {
        "entity_id": key[0], "field": key[1], "source": key[2], "value": key[3],
        "rank": seen.rank, "first_seen": seen.first_seen, "last_seen": seen.last_seen,
    }


def _winners(known: dict[ClaimKey, _Seen], touched: set[tuple[int, str]]) -> dict[int, dict[str, str]]:
    """The winning value of every touched (entity, field), by rank, then recency, then id."""
    best: dict[tuple[int, str], tuple[int, Any, str, str]] = {}
    for (entity_id, fld, source, value), seen in known.items():
        pair = (entity_id, fld)
        if pair not in touched:
            continue
        score = precedence(seen.rank, seen.last_seen, source, value)
        if pair not in best or score > best[pair]:
            best[pair] = score
    winners: dict[int, dict[str, str]] = defaultdict(dict)
    for (entity_id, fld), score in best.items():
        winners[entity_id][fld] = score[3]
    return winners


def _update_entities(
    session: Session, current: dict[int, dict[str, Any]], winners: dict[int, dict[str, str]]
) -> list[int]:
    """Write winning values that differ from the entity row; log one change per entity."""
    now = utcnow()
    rows: list[dict[str, Any]] = []
    changes: list[Change] = []
    for entity_id in sorted(winners):
        diff = _changed_fields(current.get(entity_id, {}), winners[entity_id])
        if not diff:
            continue
        values = {f: typed_value(f, v) for f, v in diff.items()}
        if "name" in values:
            values["name_norm"] = normalise_text(values["name"])
        values["updated_at"] = now
        rows.append({"_id": entity_id, **values})
        changes.append(Change(entity_id, "entity", "update", {"fields": diff}))
    update_by_id(session, Entity.__table__, rows)
    append_changes(session, changes)
    return [c.entity_id for c in changes if c.entity_id is not None]


def _load_attributes(session: Session, entity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Current attribute values of these entities, typed as the columns hold them."""
    cols = [Entity.id] + [getattr(Entity, name) for name in ATTRIBUTES]
    current: dict[int, dict[str, Any]] = {}
    conn = session.connection()
    for part in chunked(entity_ids, CHUNK):
        for row in conn.execute(select(*cols).where(among(session, Entity.id, part))):
            current[row[0]] = dict(zip(ATTRIBUTES, row[1:]))
    return current


def _changed_fields(current: dict[str, Any], winners: dict[str, str]) -> dict[str, str]:
    """The winning values that differ from what the entity row holds now."""
    return {f: v for f, v in winners.items() if typed_value(f, v) != current.get(f)}
