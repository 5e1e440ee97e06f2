"""Find or create entities by their identifiers, in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from credit.changelog import Change, append_changes
from credit.db import among, chunked, is_postgres, note_bulk_write
from credit.models import Entity
from credit.bulk import insert_rows, update_by_id

ID_FIELDS = ("uscc", "reg_no", "org_code")
CHUNK = 5000


@dataclass(frozen=True)
class EntityIds:
    """The identifiers a record carries, already normalised; any may be missing."""

    uscc: str | None = None
    reg_no: str | None = None
    org_code: str | None = None

    def complete(self) -> "EntityIds":
        """Fill the organisation code from positions 9–17 of the USCC when absent."""
        org = self.org_code or (self.uscc[8:17] if self.uscc and len(self.uscc) == 18 else None)
        return EntityIds(self.uscc or None, self.reg_no or None, org)

    def division_code(self) -> str | None:
        """The administrative division: positions 3–8 of a USCC, or the first 6 of a reg. no."""
        if self.uscc and len(self.uscc) == 18:
            return self.uscc[2:8]
        if self.reg_no and len(self.reg_no) >= 6 and self.reg_no[:6].isdigit():
            return self.reg_no[:6]
        return None


@dataclass(frozen=True)
class Resolved:
    """The outcome for one identity: the entity, whether it is new, or why it cannot be used."""

    entity_id: int | None
    created: bool = False
    conflict: str | None = None


Index = dict[str, dict[str, tuple[int, EntityIds]]]


def ensure_entities(session: Session, identities: Sequence[EntityIds]) -> list[Resolved]:
    """The entity of each identity, creating the missing ones; conflicting ids are refused."""
    wanted = [i.complete() for i in identities]
    index = _lookup(session, wanted)
    _fill_missing_ids(session, wanted, index)
    missing = [w for w in wanted if _match(index, w) is None]
    created = _create(session, missing)
    index = _lookup(session, wanted)
    if created is None:
        created = sorted({found[0] for w in missing if (found := _match(index, w)) is not None})
        append_changes(session, [Change(i, "entity", "create") for i in created])
    new_ids = set(created)
    return [_resolve(index, w, new_ids) for w in wanted]


@dataclass(frozen=True)
class Match:
    """Which entity a record belongs to, and on what it matched (None: unresolved)."""

    entity_id: int | None
    matched_on: str | None = None
    conflict: str | None = None


def match_entities(
    session: Session, identities: Sequence[EntityIds], names: Sequence[tuple[str, str | None]]
) -> list[Match]:
    """Resolve records to stored entities without creating any (DOMAIN.md §1 order).

    USCC, then registration number, then organisation code; failing those, the normalised
    name — within the division code when the record carries one — if exactly one entity has it.
    """
    wanted = [i.complete() for i in identities]
    index = _lookup(session, wanted)
    by_name = _names(session, [n for (n, _d), w in zip(names, wanted) if n and _match(index, w) is None])
    return [_match_one(index, by_name, w, name) for w, name in zip(wanted, names)]


def _match_one(index: Index, by_name: dict[str, list[tuple[int, str | None]]], wanted: EntityIds,
               name: tuple[str, str | None]) -> Match:
    for field in ID_FIELDS:
        value = getattr(wanted, field)
        if value and value in index[field]:
            entity_id, stored = index[field][value]
            conflict = _conflict(stored, wanted)
            return Match(None, field, conflict) if conflict else Match(entity_id, field)
    name_norm, division = name
    candidates = [e for e, d in by_name.get(name_norm, []) if division is None or d == division]
    if len(candidates) == 1:
        return Match(candidates[0], "name")
    if len(candidates) > 1:
        return Match(None, None, f"name matches {len(candidates)} entities")
    return Match(None)


def _names(session: Session, names: Sequence[str]) -> dict[str, list[tuple[int, str | None]]]:
    """Entities by normalised name, for the records no identifier resolved."""
    found: dict[str, list[tuple[int, str | None]]] = {}
    for part in chunked(sorted(set(names)), CHUNK):
        query = select(Entity.name_norm, Entity.id, Entity.division_code).where(among(session, Entity.name_norm, part))
        for row in session.execute(query):
            found.setdefault(row[0], []).append((row[1], row[2]))
    return found


def _lookup(session: Session, wanted: Sequence[EntityIds]) -> Index:
    """Entities matching any identifier in the batch, indexed by each identifier kind."""
    index: Index = {name: {} for name in ID_FIELDS}
    cols = (Entity.id, Entity.uscc, Entity.reg_no, Entity.org_code)
    for name in ID_FIELDS:
        values = sorted({v for w in wanted if (v := getattr(w, name))})
        column = getattr(Entity, name)
        for part in chunked(values, CHUNK):
            for row in session.execute(select(*cols).where(among(session, column, part))):
                index[name][getattr(row, name)] = (row.id, EntityIds(row.uscc, row.reg_no, row.org_code))
    return index


def _match(index: Index, wanted: EntityIds) -> tuple[int, EntityIds] | None:
    """Identity resolution order: USCC, then registration number, then organisation code."""
    for name in ID_FIELDS:
        value = getattr(wanted, name)
        if value and value in index[name]:
            return index[name][value]
    return None


def _conflict(stored: EntityIds, wanted: EntityIds) -> str | None:
    """Name the identifier on which the stored entity and the record disagree, if any."""
    for name in ID_FIELDS:
        mine, theirs = getattr(stored, name), getattr(wanted, name)
        if mine and theirs and mine != theirs:
            return f"{name} {theirs} differs from the matched entity's {mine}"
    return None


def _fill_missing_ids(session: Session, wanted: Sequence[EntityIds], index: Index) -> None:
    """Give a matched entity the identifiers it lacked (an old entity that got a USCC).

    An identifier already held by another entity is left where it is: merging two stored
    entities is a regulator's decision, not a side effect of ingest.
    """
    rows: dict[int, dict[str, str | int | None]] = {}
    taken: set[tuple[str, str]] = set()
    for w in wanted:
        found = _match(index, w)
        if found is None or _conflict(found[1], w):
            continue
        entity_id, stored = found
        extra = {n: v for n in ID_FIELDS if (v := getattr(w, n)) and not getattr(stored, n)
                 and v not in index[n] and (n, v) not in taken}
        if extra and entity_id not in rows:
            taken.update(extra.items())
            rows[entity_id] = {"_id": entity_id, **{n: extra.get(n, getattr(stored, n)) for n in ID_FIELDS}}
    if not rows:
        return
    update_by_id(session, Entity.__table__, list(rows.values()))
    append_changes(session, [Change(r["_id"], "entity", "identify", {n: r[n] for n in ID_FIELDS}) for r in rows.values()])


def _create(session: Session, missing: Sequence[EntityIds]) -> list[int] | None:
    """Insert entities for identities that matched nothing; return the ids this call created.

    On SQLite, whose writers are serialised (BEGIN IMMEDIATE), None says "every identity that
    matched nothing before is new"; PostgreSQL reports what it inserted, as others may race us.
    """
    unique = list(dict.fromkeys(missing))
    if not unique:
        return []
    table = Entity.__table__
    rows = [{**{n: getattr(w, n) for n in ID_FIELDS}, "division_code": w.division_code(),
             "name": "", "name_norm": "", "former_names": [], "id_warnings": []} for w in unique]
    note_bulk_write(session, "entity", len(rows))
    if not is_postgres(session):
        insert_rows(session, table, rows)
        return None
    created = [row.id for row in insert_rows(session, table, rows, returning=["id"])]
    append_changes(session, [Change(i, "entity", "create") for i in sorted(created)])
    return created


def _resolve(index: Index, wanted: EntityIds, created: set[int]) -> Resolved:
    found = _match(index, wanted)
    if found is None:
        return Resolved(None, conflict="identifiers are held by different entities")
    conflict = _conflict(found[1], wanted)
    if conflict:
        return Resolved(None, conflict=conflict)
    return Resolved(found[0], created=found[0] in created)
